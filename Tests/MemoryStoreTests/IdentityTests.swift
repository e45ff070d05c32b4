import Conversation
import Foundation
import Postgres
import Testing

@testable import MemoryStore

/// What makes two messages the same: the source's id, else time, role and content, else position and content.
@Suite struct IdentityTests {
    static func at(_ second: Double) -> Date { Fixtures.start.addingTimeInterval(second) }

    static func message(
        _ content: String, id: String? = nil, at second: Double? = nil, position: Int = 0, role: Role = .user,
        session: String = "s"
    ) -> MemoryMessage {
        MemoryMessage(
            user: "u", session: session, position: position, role: role, content: content,
            createdAt: second.map(at), sourceID: id)
    }

    static func chunkText(_ store: MemoryStore, on connection: PostgresConnection) async throws -> String {
        try await TestDatabase.chunks(of: store, on: connection).map(\.content).joined(separator: " | ")
    }

    @Test func anIdIsTheIdentityWhateverElseChanged() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest([Self.message("first draft", id: "m1", at: 1)], maxChunkChars: 500, on: connection)
            // The source re-sends m1 edited, later and at another line, in a session that already holds it: neither
            // COPY (which cannot skip a row) nor a second row.
            let result = try await store.ingest(
                [Self.message("edited", id: "m1", at: 9, position: 4), Self.message("next", id: "m2", at: 10)],
                maxChunkChars: 500, on: connection)
            #expect(result.inserted == 1 && result.duplicates == 1)
            #expect(try await Self.chunkText(store, on: connection) == "first draft\nnext")
        }
    }

    @Test func sameTimeRoleAndContentIsOneMessageWhereverItStands() async throws {
        try await TestDatabase.withStore { store, connection in
            try await store.ingest(
                [Self.message("hi", at: 1), Self.message("ok", at: 2, position: 1, role: .assistant)],
                maxChunkChars: 500, on: connection)
            // The same two at other positions (another cut of the file), then a third said at the same second as the
            // last stored one: it sorts after it by position, and only the content tells it apart.
            let result = try await store.ingest(
                [
                    Self.message("hi", at: 1, position: 7), Self.message("ok", at: 2, position: 8, role: .assistant),
                    Self.message("and more", at: 2, position: 9, role: .assistant),
                    Self.message("ok", at: 2, position: 10, role: .user),
                ],
                maxChunkChars: 500, on: connection)
            #expect(result.inserted == 2 && result.duplicates == 2)
            #expect(try await Self.chunkText(store, on: connection) == "hi\nok\nand more\nok")
        }
    }

    @Test func undatedMessagesWithoutIdsAreTheirPositionAndContent() async throws {
        try await TestDatabase.withStore { store, connection in
            let first = [
                Self.message("a", position: 0), Self.message("b", position: 1), Self.message("c", position: 3),
            ]
            try await store.ingest(first, maxChunkChars: 500, on: connection)
            // Line 2 fixed and sent again: it fills its own place; the others are duplicates.
            let fixed = first + [Self.message("fixed", position: 2)]
            let result = try await store.ingest(fixed, maxChunkChars: 500, on: connection)
            #expect(result.inserted == 1 && result.duplicates == 3)
            #expect(try await Self.chunkText(store, on: connection) == "a\nb\nfixed\nc")
        }
    }

    @Test func undatedMessagesWithIdsReadInTheOrderOfTheirIds() async throws {
        try await TestDatabase.withStore { store, connection in
            let messages = ["10", "9", "100", "11"].map { (id: String) in Self.message("message \(id)", id: id) }
            try await store.ingest(messages, maxChunkChars: 500, on: connection)
            let text = try await Self.chunkText(store, on: connection)
            #expect(text == "message 9\nmessage 10\nmessage 11\nmessage 100")
        }
    }

    @Test func identitiesOfDifferentKindsNeverMatch() async throws {
        try await TestDatabase.withStore { store, connection in
            let result = try await store.ingest(
                [Self.message("same", id: "x", at: 1), Self.message("same", at: 1), Self.message("same")],
                maxChunkChars: 500, on: connection)
            #expect(result.inserted == 3)
        }
    }

    /// A message said before what a session holds (a late export) lands in its place, and the chunks are those of
    /// one batch holding everything.
    @Test func aLateMessageTakesItsPlaceInTheConversation() async throws {
        let everything = (0..<12).map { Self.message("message \($0)", at: Double($0), position: $0) }
        let reference = try await TestDatabase.withStore { store, connection in
            try await store.ingest(everything, maxChunkChars: 25, on: connection)
            return try await TestDatabase.chunks(of: store, on: connection)
        }
        try await TestDatabase.withStore { store, connection in
            // Evens first, then the odds from a file of their own (positions from 0 again).
            let evens = everything.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
            var odds = everything.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
            for index in odds.indices { odds[index].position = index }
            try await store.ingest(evens, maxChunkChars: 25, on: connection)
            let result = try await store.ingest(odds, maxChunkChars: 25, on: connection)
            #expect(result.inserted == odds.count)
            #expect(try await TestDatabase.chunks(of: store, on: connection).map(\.content) == reference.map(\.content))
        }
    }
}
