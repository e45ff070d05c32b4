import Foundation
import Postgres

/// A message's place in its conversation as bytes that sort, compared byte by byte as PostgreSQL compares `bytea`,
/// in the order the conversation was held: by time, then by the source's id, then by the message's own position.
///
/// One column (`messages.order_key`) instead of three, because NULLs break row comparisons and the chunking reads
/// "everything from this message on" as one index range. The layout, each part ending where the next begins:
/// - time: `00` and the microseconds since 1970 as eight bytes, sign bit flipped so earlier is smaller; or `01`
///   when the message has no time, so undated messages follow dated ones (PostgreSQL's NULLS LAST);
/// - id: `00` when the message has none; else `01`, the id with each run of digits spelled as `'0'`, its length and
///   its digits without leading zeros (so "9" < "10", "msg-2" < "msg-10"), and a closing `00`;
/// - position: four bytes.
///
/// Ties (equal keys) are broken by the content's hash, which the server computes.
enum ConversationOrder {
    /// Bytes of the time part when the message has a time.
    static let datedTimeLength = 9

    static func key(createdAt: Date?, sourceID: String?, position: Int) -> [UInt8] {
        var key: [UInt8] = []
        key.reserveCapacity(datedTimeLength + 1 + (sourceID?.utf8.count ?? 0) + 2 + 4)
        if let createdAt {
            key.append(0)
            appendBigEndian(UInt64(bitPattern: createdAt.postgresMicroseconds) ^ (1 << 63), bytes: 8, to: &key)
        } else {
            key.append(1)
        }
        if let sourceID {
            key.append(1)
            appendNatural(sourceID, to: &key)
            key.append(0)
        } else {
            key.append(0)
        }
        appendBigEndian(UInt64(clamping: position), bytes: 4, to: &key)
        return key
    }

    /// The time part of `key`: what two messages share exactly when they have the same time (or both have none).
    static func timePart(of key: [UInt8]) -> ArraySlice<UInt8> {
        key.prefix(key.first == 0 ? datedTimeLength : 1)
    }

    /// ``key(createdAt:sourceID:position:)`` computed by the server from a row stored before keys existed (rows then
    /// had no source id), for the upgrade. A test holds the two to the same bytes.
    static func keySQL(createdAt: String, position: String) -> String {
        """
        (CASE WHEN \(createdAt) IS NULL THEN '\\x01'::bytea
              ELSE '\\x00'::bytea || int8send((extract(epoch FROM \(createdAt)) * 1000000)::int8
                                             # (-9223372036854775808)::int8)
         END || '\\x00'::bytea || int4send(\(position)))
        """
    }

    private static func appendBigEndian(_ value: UInt64, bytes: Int, to key: inout [UInt8]) {
        for shift in stride(from: (bytes - 1) * 8, through: 0, by: -8) {
            key.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    /// The id's UTF-8 bytes with digit runs made to sort by value. No byte written is `00` (ids hold no NUL, run
    /// lengths are at least 1), so the closing `00` ends the id before anything that follows it is compared. The
    /// marker `'0'` never meets a plain byte equal to it: that byte would be a digit, hence a run of its own.
    private static func appendNatural(_ id: String, to key: inout [UInt8]) {
        let bytes = Array(id.utf8)
        var index = 0
        while index < bytes.count {
            guard isDigit(bytes[index]) else {
                key.append(bytes[index])
                index += 1
                continue
            }
            var end = index
            while end < bytes.count, isDigit(bytes[end]) { end += 1 }
            var significant = index
            while significant < end - 1, bytes[significant] == UInt8(ascii: "0") { significant += 1 }
            let digits = bytes[significant..<end]
            // Runs longer than a length byte can say (over 255 digits) keep their plain bytes: still a total order.
            if digits.count <= 255 {
                key.append(UInt8(ascii: "0"))
                key.append(UInt8(digits.count))
                key.append(contentsOf: digits)
            } else {
                key.append(contentsOf: bytes[index..<end])
            }
            index = end
        }
    }

    private static func isDigit(_ byte: UInt8) -> Bool {
        byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9")
    }
}

extension MemoryMessage {
    /// The message's place in its conversation; see ``ConversationOrder``. Also what a benchmark writing rows by
    /// other means (psql `\copy`) must store in `order_key`.
    package var orderKey: [UInt8] {
        ConversationOrder.key(createdAt: createdAt, sourceID: sourceID, position: position)
    }
}
