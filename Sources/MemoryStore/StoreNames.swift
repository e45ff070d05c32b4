/// The validated names one store splices into its SQL: its schema and its text-search configuration.
struct StoreNames: Sendable, Hashable {
    let schema: SQLName
    let textSearchConfig: SQLName

    init(schema: String, textSearchConfig: String) throws(MemoryStoreError) {
        self.schema = try SQLName(schema, kind: .schema)
        self.textSearchConfig = try SQLName(textSearchConfig, kind: .textSearchConfig)
    }

    /// `"schema"."table"`.
    func table(_ name: String) -> String { schema.identifier + "." + name }
}
