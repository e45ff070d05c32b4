/// The constants of the search's Okapi BM25 score (see ``Searcher``).
public struct Ranking: Sendable, Equatable {
    /// How fast a term's weight saturates as it repeats in a message: 0 counts a term once however often it occurs.
    public var k1: Double
    /// How much a message's length discounts its terms: 0 not at all, 1 in full proportion to its length.
    public var b: Double

    public init(k1: Double = 1.2, b: Double = 0.75) {
        self.k1 = k1
        self.b = b
    }
}
