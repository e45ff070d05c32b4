import Foundation
import Testing

@testable import SampleData

@Suite struct ContentTests {
    @Test(arguments: [0, 1, 7, 999, 1000, 12_345])
    func totalMessagesIsExact(total: Int) throws {
        let generator = try ConversationGenerator(seed: 11, users: 10, sessionsPerUser: 10, totalMessages: total)
        #expect(generator.messageCount == total)
        #expect(generator.messages().reduce(0) { count, _ in count + 1 } == total)
    }

    @Test func rangeModeRespectsTheRange() throws {
        let generator = try ConversationGenerator(seed: 4, users: 6, sessionsPerUser: 5, messagesPerSession: 3...9)
        var perSession: [String: Int] = [:]
        for message in generator.messages() { perSession[message.session, default: 0] += 1 }
        #expect(perSession.count == 30)
        #expect(perSession.values.allSatisfy { (3...9).contains($0) })
        #expect(perSession.values.reduce(0, +) == generator.messageCount)
    }

    @Test func everyLineIsAJSONObjectWithTheIngestFields() throws {
        let data = try JSONLines.generate(seed: 8, users: 7, sessions: 5, total: 2000)
        let objects = try JSONLines.objects(data)
        #expect(objects.count == 2000)
        let roles = Set(GeneratedMessage.Role.allCases.map(\.rawValue))
        let timestamp = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z/
        for object in objects {
            #expect(Set(object.keys) == ["user", "session", "role", "content", "created_at"])
            let role = try #require(object["role"] as? String)
            #expect(roles.contains(role))
            let content = try #require(object["content"] as? String)
            #expect(!content.isEmpty)
            let createdAt = try #require(object["created_at"] as? String)
            #expect(createdAt.wholeMatch(of: timestamp) != nil)
        }
    }

    @Test func createdAtIncreasesWithinEverySession() throws {
        let generator = try ConversationGenerator(seed: 21, users: 8, sessionsPerUser: 6, totalMessages: 3000)
        var last: [String: Int64] = [:]
        var checked = 0
        for message in generator.messages() {
            if let previous = last[message.session] {
                #expect(message.timestamp > previous, "session \(message.session) position \(message.position)")
                checked += 1
            }
            last[message.session] = message.timestamp
        }
        #expect(checked > 2000)
    }

    @Test func rolesAlternateWithOccasionalSystemAndTool() throws {
        let generator = try ConversationGenerator(seed: 5, users: 10, sessionsPerUser: 10, totalMessages: 5000)
        var counts: [GeneratedMessage.Role: Int] = [:]
        var previous: GeneratedMessage?
        for message in generator.messages() {
            counts[message.role, default: 0] += 1
            if let previous, previous.session == message.session {
                switch message.role {
                case .user: #expect(previous.role == .assistant || previous.role == .system)
                case .assistant: #expect(previous.role == .user || previous.role == .tool)
                case .tool: #expect(previous.role == .assistant)
                case .system: Issue.record("system message inside session \(message.session)")
                }
            }
            previous = message
        }
        #expect(counts[.user, default: 0] > 1500)
        #expect(counts[.assistant, default: 0] > 1500)
        #expect(counts[.system, default: 0] > 0)
        #expect(counts[.tool, default: 0] > 0)
    }

    @Test func distinctiveWordsBelongToOneUserEach() throws {
        let generator = try ConversationGenerator(seed: 13, users: 40, sessionsPerUser: 3, totalMessages: 4000)
        let users = (0..<40).map(generator.user)
        let owner = Dictionary(
            uniqueKeysWithValues: users.flatMap { user in user.distinctiveWords.map { ($0, user.id) } })
        #expect(owner.count == 80, "every pet and project name is unique")
        var seen: [String: Set<String>] = [:]
        for message in generator.messages() {
            for word in Self.words(message.content) {
                if owner[word] != nil { seen[word, default: []].insert(message.user) }
            }
        }
        for user in users {
            for word in user.distinctiveWords {
                #expect(seen[word] == [user.id], "\(word) of \(user.id) appears for \(seen[word] ?? [])")
            }
        }
    }

    @Test func allUsersHaveDistinctNames() {
        var names = Set<String>()
        for index in stride(from: 0, to: SampleUser.maximumCount, by: 1) {
            let user = SampleUser(index: index, seed: 0)
            names.formUnion(user.distinctiveWords)
        }
        #expect(names.count == 2 * SampleUser.maximumCount)
    }

    /// `topics.txt` read whole: every topic with its ten nouns, six verbs and six adjectives, words without padding.
    /// The generated data depends on the exact lists, so the first topic is pinned too.
    @Test func everyTopicHasItsWords() {
        #expect(Topic.all.count == 14)
        #expect(Set(Topic.all.map(\.name)).count == Topic.all.count)
        for topic in Topic.all {
            #expect(
                (topic.nouns.count, topic.verbs.count, topic.adjectives.count) == (10, 6, 6), "\(topic.name)")
            let words = topic.nouns + topic.verbs + topic.adjectives
            #expect(words.allSatisfy { !$0.isEmpty && $0.trimmingCharacters(in: .whitespaces) == $0 }, "\(topic.name)")
        }
        #expect(
            Topic.all.first
                == Topic(
                    name: "hiking",
                    nouns: [
                        "trail", "summit", "backpack", "switchback", "ridge", "trailhead", "blister", "compass",
                        "tent", "waterfall",
                    ],
                    verbs: ["climb", "pack", "navigate", "descend", "hike", "scout"],
                    adjectives: ["steep", "muddy", "alpine", "rocky", "scenic", "exposed"]))
    }

    @Test func aTopicLineOfAnotherFormIsSkipped() {
        let topics = Topic.parse("# comment\nchess\n  nouns: pawn, rook\n  moves: e4\n  verbs: castle\n")
        #expect(topics == [Topic(name: "chess", nouns: ["pawn", "rook"], verbs: ["castle"])])
    }

    @Test func distinctiveWordsAreNotVocabulary() {
        let vocabulary = Set(
            Topic.all.flatMap { $0.nouns + $0.verbs + $0.adjectives }.flatMap { Self.words($0) })
        let user = SampleUser(index: 0, seed: 1)
        #expect(vocabulary.isDisjoint(with: user.distinctiveWords))
    }

    @Test func usersTalkAboutTheirTopics() throws {
        let generator = try ConversationGenerator(seed: 2, users: 3, sessionsPerUser: 4, totalMessages: 600)
        for index in 0..<3 {
            let user = generator.user(index)
            #expect(user.primaryTopic != user.secondaryTopic)
            let topicWords = Set(
                (user.primaryTopic.nouns + user.secondaryTopic.nouns).flatMap { Self.words($0) })
            let text = generator.messages().filter { $0.user == user.id }.map(\.content).joined(separator: " ")
            #expect(!topicWords.isDisjoint(with: Self.words(text)))
        }
    }

    @Test func invalidParametersThrow() {
        #expect(throws: ConversationGenerator.InvalidParameter.self) {
            try ConversationGenerator(seed: 1, users: 0, sessionsPerUser: 1, totalMessages: 1)
        }
        #expect(throws: ConversationGenerator.InvalidParameter.self) {
            try ConversationGenerator(seed: 1, users: 1, sessionsPerUser: Int.max, totalMessages: 1)
        }
        #expect(throws: ConversationGenerator.InvalidParameter.self) {
            try ConversationGenerator(seed: 1, users: 1, sessionsPerUser: 1, totalMessages: -1)
        }
        #expect(throws: ConversationGenerator.InvalidParameter.self) {
            try ConversationGenerator(seed: 1, users: 1, sessionsPerUser: 1, messagesPerSession: -1...3)
        }
    }

    @Test func escapingRoundTripsThroughJSON() throws {
        let message = GeneratedMessage(
            user: "u", session: "s", position: 0, role: .tool, content: "a \"quote\"\\ \n\t\u{1} café ✓",
            timestamp: 0)
        let object = try #require(
            try JSONSerialization.jsonObject(with: Data(message.jsonLine.utf8)) as? [String: Any])
        #expect(object["content"] as? String == message.content)
        #expect(object["created_at"] as? String == "1970-01-01T00:00:00Z")
    }

    @Test(arguments: [Int64(0), 951_782_400, 1_709_164_800, 1_704_067_199, 4_102_444_800, -1])
    func rfc3339MatchesFoundation(seconds: Int64) {
        let formatter = ISO8601DateFormatter()
        formatter.timeZone = TimeZone(identifier: "UTC")
        #expect(RFC3339.format(seconds) == formatter.string(from: Date(timeIntervalSince1970: TimeInterval(seconds))))
    }

    @Test func streamsTwoHundredThousandMessages() throws {
        let generator = try ConversationGenerator(seed: 1, users: 50, sessionsPerUser: 20, totalMessages: 200_000)
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("big-\(UUID().uuidString).jsonl")
        defer { try? FileManager.default.removeItem(at: url) }
        #expect(try generator.writeJSONLines(to: url) == 200_000)
        let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int ?? 0
        #expect(size > 10_000_000)
    }

    /// Lowercased words as full-text search splits them.
    static func words(_ text: String) -> Set<String> {
        Set(text.lowercased().split(whereSeparator: { !$0.isLetter }).map(String.init))
    }
}
