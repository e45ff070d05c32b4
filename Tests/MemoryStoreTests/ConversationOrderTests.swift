import Foundation
import Postgres
import Testing

@testable import MemoryStore

@Suite struct ConversationOrderTests {
    static func key(_ createdAt: Date? = nil, id: String? = nil, position: Int = 0) -> [UInt8] {
        ConversationOrder.key(createdAt: createdAt, sourceID: id, position: position)
    }

    static func sorted(_ keys: [[UInt8]]) -> [[UInt8]] {
        keys.sorted { $0.lexicographicallyPrecedes($1) }
    }

    @Test func timeComesFirstThenIdThenPosition() {
        let early = Date(timeIntervalSince1970: 1_700_000_000)
        let late = early.addingTimeInterval(0.000_001)
        let inOrder = [
            Self.key(Date(timeIntervalSince1970: -86_400 * 365), position: 9),  // before 1970
            Self.key(early, position: 5),
            Self.key(early, id: "a", position: 0),
            Self.key(late, position: 0),
            Self.key(nil, position: 0),  // undated messages follow dated ones
            Self.key(nil, id: "9", position: 0),
            Self.key(nil, id: "10", position: 0),
        ]
        #expect(Self.sorted(inOrder.reversed()) == inOrder)
    }

    @Test func idsSortByTheValueOfTheirNumbers() {
        let ids = ["0", "7", "007b", "9", "10", "99", "100", "msg-2", "msg-10", "msg-10a", "msg-10b", "msgx", "é"]
        let keys = ids.map { Self.key(id: $0) }
        let order = Self.sorted(keys).map { key in ids[keys.firstIndex(of: key) ?? 0] }
        #expect(order == ids)
    }

    @Test func theTimePartIsWhatEqualTimesShare() {
        let at = Date(timeIntervalSince1970: 1_700_000_000.5)
        #expect(
            ConversationOrder.timePart(of: Self.key(at, position: 1))
                == ConversationOrder.timePart(of: Self.key(at, id: "x", position: 7)))
        #expect(
            ConversationOrder.timePart(of: Self.key(at)) != ConversationOrder.timePart(of: Self.key(at + 0.000_001)))
        #expect(ConversationOrder.timePart(of: Self.key(nil, position: 3)) == [1])
    }

    /// The upgrade computes the keys of stored rows in SQL; they must be the program's keys to the byte, or a
    /// message stored before the upgrade would sort (and be found new) differently from the same message sent again.
    @Test func theServerComputesTheSameKeysForStoredRows() async throws {
        let connection = try await TestDatabase.connect()
        defer { connection.close() }
        let times: [Date?] = [
            nil, Date(timeIntervalSince1970: 0), Date(timeIntervalSince1970: 1_714_564_801.25),
            Date(timeIntervalSince1970: -1.000_001), Date(timeIntervalSince1970: 1_700_000_000.123_456),
            Date(timeIntervalSince1970: 253_402_300_799.999_999), Date(timeIntervalSince1970: -62_135_596_800),
        ]
        for time in times {
            for position in [0, 1, 255, 256, 65_536, Int(Int32.max)] {
                let sql = "SELECT " + ConversationOrder.keySQL(createdAt: "$1::timestamptz", position: "$2::int4")
                let stored = try await connection.query(sql, [time, position]).rows[0].decode(0, as: [UInt8].self)
                #expect(stored == Self.key(time, position: position), "\(String(describing: time)) \(position)")
            }
        }
    }
}
