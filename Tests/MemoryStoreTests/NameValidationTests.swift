import MemoryStore
import Testing

@Suite struct NameValidationTests {
    @Test(arguments: ["memory", "_x", "a1_b2", "user", String(repeating: "a", count: 63)])
    func plainIdentifiersAreAccepted(_ name: String) throws {
        try MemoryStore(schema: name, textSearchConfig: name).validate()
    }

    @Test(arguments: [
        "", "Memory", "1abc", "a-b", "a b", "a\"b", "a'b", "memory; DROP SCHEMA public", "sch\u{e9}ma", "a.b",
        String(repeating: "a", count: 64),
    ])
    func anythingElseIsRefusedWithAClearError(_ name: String) {
        #expect(throws: MemoryStoreError.invalidName(kind: "schema name", value: name)) {
            try MemoryStore(schema: name).validate()
        }
        #expect(throws: MemoryStoreError.invalidName(kind: "text search configuration", value: name)) {
            try MemoryStore(textSearchConfig: name).validate()
        }
        let message = "\(MemoryStoreError.invalidName(kind: "schema name", value: name))"
        #expect(message.contains("[a-z_][a-z0-9_]*"))
    }

    @Test func aBadNameFailsEveryCallBeforeTouchingTheDatabase() async throws {
        let store = MemoryStore(schema: "bad-name")
        #expect(throws: MemoryStoreError.self) { try store.searchSQL() }
    }

    @Test func theSearchStatementIsBoundAndNamesTheSchema() throws {
        #expect(MemoryStore.searchSQL.contains("\"memory\".messages"))
        #expect(MemoryStore.searchSQL.contains("\"memory\".lexeme_statistics"))
        for parameter in ["$1::text", "$2::text", "$3::int8", "$4::float8", "$5::float8"] {
            #expect(MemoryStore.searchSQL.contains(parameter))
        }
        #expect(try MemoryStore(schema: "other").searchSQL().contains("\"other\".messages"))
    }
}
