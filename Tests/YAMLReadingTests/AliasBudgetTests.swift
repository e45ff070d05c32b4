import Testing
import YAMLReading

@Suite struct AliasBudgetTests {
    /// `a` holds 4 values (the list and its 3 items), so each alias of it adds 3 beyond the one node it stands for.
    static let threeAliases = "a: &a [1, 2, 3]\nb: [*a, *a, *a]\n"

    @Test func countsWhatAliasesAdd() {
        #expect(AliasBudget.check(Self.threeAliases, maxAddedNodes: 9) == nil)
        let refusal = AliasBudget.check(Self.threeAliases, maxAddedNodes: 8)
        #expect(refusal?.line == 2)
        #expect(refusal?.message.contains("more than 8 values (at *a)") == true)
    }

    @Test func nestedAliasesCountTheirExpansion() {
        // c is [b, b] and b is [a, a]: c stands for 1 + 2 * (1 + 2 * 4) = 19 values.
        let text = "a: &a [1, 2, 3]\nb: &b [*a, *a]\nc: &c [*b, *b]\nd: *c\n"
        // The aliases add 3 + 3 (in b), 8 + 8 (in c) and 18 (d).
        #expect(AliasBudget.check(text, maxAddedNodes: 40) == nil)
        #expect(AliasBudget.check(text, maxAddedNodes: 39)?.line == 4)
    }

    @Test func mergeKeysAndScalarAliasesAreValues() {
        let text = "base: &base {pool_size: 3}\nother:\n  <<: *base\n  name: &n x\n  copy: *n\n"
        #expect(AliasBudget.check(text, maxAddedNodes: 10) == nil)
    }

    @Test func anAliasAsAKeyIsRefused() {
        let refusal = AliasBudget.check("a: &k x\nb:\n  *k : 1\n", maxAddedNodes: 1_000)
        #expect(refusal?.line == 3)
        #expect(refusal?.message.hasPrefix("the alias *k is used as a mapping key") == true)
    }

    @Test func syntaxErrorsAreLeftToTheParser() {
        #expect(AliasBudget.check("a: [1, 2\n", maxAddedNodes: 0) == nil)
        #expect(AliasBudget.check("a: *undefined\n", maxAddedNodes: 0) == nil)
    }
}
