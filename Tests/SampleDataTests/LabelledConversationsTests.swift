import Foundation
import SampleData
import Testing

@Suite struct LabelledConversationsTests {
    static func make(seed: UInt64 = 1, questions: Int = 1000) throws -> LabelledConversations {
        try LabelledConversations(
            seed: seed, users: 50, sessionsPerUser: 10, totalMessages: 20_000, questions: questions)
    }

    @Test func theSameSeedGivesTheSameSet() throws {
        let first = try Self.make()
        #expect(first.messages == (try Self.make()).messages)
        #expect(first.labels == (try Self.make()).labels)
        let other = try Self.make(seed: 2)
        #expect(other.labels != first.labels)
        #expect(other.messages != first.messages)
    }

    /// A thousand questions over every family; each answer is planted once in its user's own messages, in words
    /// other than the question's, and a fact that changed is answered by its latest statement only.
    @Test func aThousandQuestionsAskForPlantedFactsInOtherWords() throws {
        let set = try Self.make()
        #expect(set.labels.count == 1000)
        #expect(set.messages.count == 20_000)
        #expect(
            Set(set.labels.map(\.category)) == [
                "word_forms", "question_words", "names", "dates", "several_messages", "latest_wins",
            ])
        // Users draw their facts' words from the same lists, so only a user's own messages are compared.
        var byText: [String: [GeneratedMessage]] = [:]
        for message in set.messages { byText[message.user + "\u{0}" + message.content, default: []].append(message) }
        for label in set.labels {
            #expect(!label.relevant.isEmpty)
            for text in label.relevant {
                let holders = byText[label.user + "\u{0}" + text] ?? []
                #expect(holders.count == 1, "'\(text)' is said \(holders.count) times")
                #expect(holders.allSatisfy { $0.role == .user })
                #expect(text != label.query)
            }
        }
        #expect(set.labels.contains { $0.relevant.count == 2 })
        // The two older statements of each changed fact are there too, each said before the one that answers, in
        // sessions of their own, and they repeat the question's words that the answer leaves out.
        for label in set.labels where label.category == "latest_wins" {
            let answer = try #require(byText[label.user + "\u{0}" + label.relevant[0]]?.first)
            let account = label.query.replacing("What is my current ", with: "").replacing(
                " security answer?", with: "")
            let older = set.messages.filter {
                $0.user == label.user && $0.content.contains(" \(account) ")
                    && ($0.content.contains("note to self.") || $0.content.contains("Reminder:"))
            }
            #expect(older.count == 2)
            #expect(older.allSatisfy { $0.timestamp < answer.timestamp && $0.content.contains("security answer") })
            #expect(Set(older.map(\.session) + [answer.session]).count == 3)
            #expect(!answer.content.contains("security answer"))
        }
        // Facts are added to the plain generator's messages, never replace them: to a user's message after the
        // session's opening, or as the assistant's echo after its reply.
        let plain = Array(try ConversationGenerator(seed: 1, users: 50, sessionsPerUser: 10, totalMessages: 20_000))
        let changed = zip(plain, set.messages).filter { $0.content != $1.content }
        #expect(
            changed.allSatisfy { plain, planted in
                (plain.role == .user && plain.position > 1 && planted.content.contains(plain.content))
                    || (plain.role == .assistant && planted.content.hasPrefix(plain.content + " "))
            })
        #expect(changed.contains { $0.0.role == .assistant })
        #expect(zip(plain, set.messages).allSatisfy { $0.timestamp == $1.timestamp && $0.session == $1.session })
    }

    @Test func tooManyQuestionsForTheUsersAreRefused() throws {
        #expect(throws: ConversationGenerator.InvalidParameter.self) {
            try LabelledConversations(seed: 1, users: 2, sessionsPerUser: 10, totalMessages: 2000, questions: 97)
        }
        #expect(throws: ConversationGenerator.InvalidParameter.self) {
            try LabelledConversations(seed: 1, users: 2, sessionsPerUser: 2, totalMessages: 20, questions: 40)
        }
    }
}
