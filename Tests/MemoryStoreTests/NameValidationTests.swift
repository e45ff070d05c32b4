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
        #expect(MemoryStore.searchSQL.contains("\"memory\".chunks"))
        #expect(MemoryStore.searchSQL.contains("websearch_to_tsquery"))
        #expect(MemoryStore.searchSQL.contains("$1") && MemoryStore.searchSQL.contains("$2"))
        #expect(try MemoryStore(schema: "other").searchSQL().contains("\"other\".chunks"))
    }
}
