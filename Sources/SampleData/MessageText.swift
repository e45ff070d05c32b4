/// Writes message text from templates and a topic's words.
///
/// Templates keep the text English-shaped (questions from the user, advice from the assistant, JSON-ish tool output)
/// so stemming, ranking and snippets behave as on real conversations; a few include quotes, newlines and non-ASCII
/// letters so that every ingest path meets the characters that need escaping.
struct MessageText {
    let user: SampleUser
    let topic: Topic
    /// The user's topic this session is not about, for "{other}".
    let otherTopic: Topic

    init(user: SampleUser, topic: Topic) {
        self.user = user
        self.topic = topic
        otherTopic = topic == user.primaryTopic ? user.secondaryTopic : user.primaryTopic
    }

    func opening(_ random: inout SplitMix64) -> String {
        fill(random.pick(Template.openings), &random)
    }

    func userMessage(_ random: inout SplitMix64) -> String {
        var text = fill(random.pick(Template.userMessages), &random)
        if random.chance(25) { text += " " + fill(random.pick(Template.userFollowUps), &random) }
        return text
    }

    func assistantMessage(_ random: inout SplitMix64) -> String {
        if random.chance(12) { return fill(random.pick(Template.assistantLists), &random) }
        // Distinct templates: an answer that says the same sentence twice reads as a bug, not as variety.
        let templates = Template.assistantSentences
        var used: [Int] = []
        for _ in 0..<random.next(in: 1...3) {
            var index = random.next(below: templates.count)
            while used.contains(index) { index = (index + 1) % templates.count }
            used.append(index)
        }
        return used.map { fill(templates[$0], &random) }.joined(separator: " ")
    }

    func toolMessage(_ random: inout SplitMix64) -> String {
        fill(random.pick(Template.toolOutputs), &random)
    }

    func systemMessage(_ random: inout SplitMix64) -> String {
        fill(random.pick(Template.systemPrompts), &random)
    }

    private func fill(_ template: Template, _ random: inout SplitMix64) -> String {
        var output = ""
        output.reserveCapacity(template.length + 48)
        var noun = ""
        var verb = ""
        for piece in template.pieces {
            switch piece {
            case .text(let text): output += text
            case .slot(.noun):
                noun = random.pick(topic.nouns)
                output += noun
            case .slot(.noun2): output += Self.pick(topic.nouns, differentFrom: noun, &random)
            case .slot(.verb):
                verb = random.pick(topic.verbs)
                output += verb
            case .slot(.verb2): output += Self.pick(topic.verbs, differentFrom: verb, &random)
            case .slot(.adj): output += random.pick(topic.adjectives)
            case .slot(.topic): output += topic.name
            case .slot(.other): output += otherTopic.name
            case .slot(.pet): output += user.petName
            case .slot(.project): output += user.projectName
            case .slot(.n): output += String(random.next(in: 2...48))
            case .slot(.day): output += random.pick(Template.days)
            case .slot(.filler): output += random.pick(Template.fillers)
            }
        }
        return output
    }

    /// A word of `words` other than `previous`, so "{noun} or {noun2}" never names the same thing twice.
    private static func pick(_ words: [String], differentFrom previous: String, _ random: inout SplitMix64) -> String {
        let index = random.next(below: words.count)
        return words[index] == previous ? words[(index + 1) % words.count] : words[index]
    }
}
