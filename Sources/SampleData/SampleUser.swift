/// A generated user: an id, two topics, and two invented names that no other user's messages contain.
///
/// The invented names (a pet and a project) are what isolation tests search for: a query for user A's pet name must
/// find A's messages and nobody else's. They are built from syllable tables rather than drawn at random, so they
/// are unique by construction, not just probably unique.
public struct SampleUser: Sendable, Hashable {
    /// 0-based index.
    public var index: Int
    /// `user-0001` (1-based for people reading the data).
    public var id: String
    public var primaryTopic: Topic
    public var secondaryTopic: Topic
    /// Capitalized, as it appears in messages, e.g. `Kabelvork`.
    public var petName: String
    /// Capitalized, e.g. `Zomavfjord`.
    public var projectName: String

    /// The words only this user's messages contain, lowercased (as full-text search and `lower()` see them).
    public var distinctiveWords: [String] { [petName.lowercased(), projectName.lowercased()] }

    /// Users supported: the number of distinct names the syllable tables can spell.
    public static let maximumCount = firstSyllables.count * middleSyllables.count * petEndings.count

    /// The user at `index` for `seed`: names depend on the index only; topics on the seed too.
    public init(index: Int, seed: UInt64) {
        self.index = index
        id = Self.id(index)
        var random = SplitMix64(seed: seed, stream: 1, UInt64(index))
        let topics = Topic.all
        let primary = random.next(below: topics.count)
        let secondary = (primary + 1 + random.next(below: topics.count - 1)) % topics.count
        primaryTopic = topics[primary]
        secondaryTopic = topics[secondary]
        // Odd multipliers permute 0..<maximumCount (a power of two), so names stay unique; these two also change
        // every syllable from one user to the next, and differ, so a user's two names share no pattern.
        petName = Self.name(for: (index &* 9573 &+ 3) % Self.maximumCount, endings: Self.petEndings)
        projectName = Self.name(for: (index &* 7919 &+ 13) % Self.maximumCount, endings: Self.projectEndings)
    }

    static func id(_ index: Int) -> String {
        let digits = String(index + 1)
        return "user-" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
    }

    /// Two fixed-length syllables (2 and 3 letters) then an ending, so each name spells exactly one index: two
    /// users can never share a name, and pet endings never equal project endings.
    private static func name(for index: Int, endings: [String]) -> String {
        let first = firstSyllables[index % firstSyllables.count]
        let middle = middleSyllables[index / firstSyllables.count % middleSyllables.count]
        let ending = endings[index / (firstSyllables.count * middleSyllables.count) % endings.count]
        return first.initialUppercased + middle + ending
    }

    private static let firstSyllables = [
        "ka", "ke", "ki", "ko", "ku", "za", "ze", "zi", "zo", "zu", "va", "ve", "vi", "vo", "vu", "ta",
        "te", "ti", "to", "tu", "ma", "me", "mi", "mo", "mu", "ra", "re", "ri", "ro", "ru", "sa", "so",
    ]
    private static let middleSyllables = [
        "bel", "dor", "fen", "gal", "hum", "jix", "lor", "mav", "nid", "pol", "quo", "rav", "sil", "tob", "vek",
        "wyn", "yor", "zan", "bri", "cad", "dru", "fal", "gor", "hin", "kel", "lun", "mir", "nox", "pex", "rul",
        "sev", "tam",
    ]
    // Endings without the suffixes English stemming removes (-s, -ed, -ing, -ly, -er, -ant, -ate), so distinct names
    // keep distinct lexemes in full-text search.
    private static let petEndings = [
        "ax", "ek", "ix", "orn", "ul", "yx", "ath", "ik", "esh", "ov", "ard", "irk", "oz", "ump", "ob", "eth",
    ]
    private static let projectEndings = [
        "wick", "moss", "fjord", "kelp", "marsh", "forge", "spire", "vale", "crest", "hollow", "brook", "stead",
        "haven", "mere", "field", "glen",
    ]
}

extension String {
    fileprivate var initialUppercased: String { prefix(1).uppercased() + dropFirst() }
}
