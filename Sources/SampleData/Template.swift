/// A message template: text with `{slot}`s, parsed once rather than scanned for every message.
///
/// A brace that does not open a known slot is text, as in the JSON of tool output.
struct Template: Sendable {
    enum Slot: String, Sendable {
        case noun, noun2, verb, verb2, adj, topic, other, pet, project, n, day, filler
    }

    enum Piece: Sendable {
        case text(String)
        case slot(Slot)
    }

    let pieces: [Piece]
    /// Characters of text, to size the output.
    let length: Int

    init(_ source: String) {
        var pieces: [Piece] = []
        var text = ""
        var rest = Substring(source)
        while let open = rest.firstIndex(of: "{") {
            text += rest[..<open]
            let afterOpen = rest.index(after: open)
            if let close = rest[afterOpen...].firstIndex(of: "}"),
                let slot = Slot(rawValue: String(rest[afterOpen..<close]))
            {
                if !text.isEmpty { pieces.append(.text(text)) }
                text = ""
                pieces.append(.slot(slot))
                rest = rest[rest.index(after: close)...]
            } else {
                text += "{"
                rest = rest[afterOpen...]
            }
        }
        text += rest
        if !text.isEmpty { pieces.append(.text(text)) }
        self.pieces = pieces
        length = source.utf8.count
    }

    // Every opening names the pet or the project: each session's first user message carries a distinctive word.
    static let openings: [Template] = [
        "Hi again! {pet} is asleep next to me, so let's talk about {topic}. How do I {verb} a {adj} {noun}?",
        "Back with another {topic} question for {project}: what is the best way to {verb} the {noun}?",
        "Morning. I spent {day} on {project} and the {noun} is still {adj}. Where would you start?",
        "{pet} knocked over my {noun} again, which reminds me: how do you {verb} a {noun2} properly?",
        "Quick update on {project}: the {noun} works now, but the {noun2} looks {adj}. Thoughts?",
        "Can we pick up the {topic} thread from last time? {pet} and I tried to {verb} the {noun} on {day}.",
    ].map(Template.init)
    static let userMessages: [Template] = [
        "I've been trying to {verb} my {noun}, but the {noun2} keeps getting {adj}. Any ideas?",
        "Quick question about {topic}: is a {adj} {noun} better than a {noun2}?",
        "Can you remind me what we said about the {noun}?",
        "My {noun} feels {adj} lately and I'm not sure why.",
        "Is it normal for a {noun} to take this long to {verb}?",
        "I finally managed to {verb} the {noun}! {pet} seemed impressed.",
        "For {project} I need to {verb} the {noun} before {day}. Where do I start?",
        "What would you {verb} first, the {noun} or the {noun2}?",
        "Someone told me a \"{adj} {noun}\" is a myth. True?",
        "Thanks, that helped. Next: how often should I {verb} the {noun}?",
        "Does any of this change if I'm also into {other}?",
    ].map(Template.init)
    static let userFollowUps: [Template] = [
        "{filler}", "It's for {project}, so it matters.", "I tried it on {day} and it went okay.",
        "Keep it short please.", "{pet} says hi.",
    ].map(Template.init)
    static let assistantSentences: [Template] = [
        "Good question: a {adj} {noun} usually helps, because the {noun2} has time to settle.",
        "Try to {verb} the {noun} in small steps, and check the {noun2} after each one.",
        "Most people find the {noun} gets easier once they {verb} it regularly.",
        "It depends on the {noun2}; if it is {adj}, start with the {noun} instead.",
        "I'd say \"{verb} early, {verb2} later\" is a decent rule for any {noun}.",
        "A {adj} {noun} is common in {topic} and rarely a problem on its own.",
        "If the {noun} still looks {adj} after that, {verb} it once more and wait a day.",
        "Write down what you changed, so next time you know which {noun} made the difference.",
        "That fits what you described for {project}.",
        "Don't worry about the {noun2} yet; the {noun} matters more at this stage.",
    ].map(Template.init)
    static let assistantLists: [Template] = [
        "Here are a few ideas:\n- {verb} the {noun} first\n- keep the {noun2} {adj}\n- note what changed",
        "Three steps that usually work:\n1. {verb} the {noun}\n2. check the {noun2}\n3. {verb2} again on {day}",
    ].map(Template.init)
    static let toolOutputs: [Template] = [
        #"{"tool": "search", "query": "{adj} {noun}", "results": {n}}"#,
        "search results for '{noun} {topic}': {n} articles; top hit \"How to {verb} a {noun}\"",
        #"{"tool": "notes", "user_note": "{project}: {verb} the {noun}", "found": true}"#,
        "calendar: {day} is free for {topic} after 10:00",
    ].map(Template.init)
    static let systemPrompts: [Template] = [
        "You are a helpful assistant. The user is into {topic} and {other}. Keep answers short.",
        "Memory note: the user's pet is {pet} and their project is {project}. Prefer practical advice.",
        "Context: earlier sessions covered the {noun} and the {noun2}. Be concise and friendly.",
    ].map(Template.init)
    static let days = [
        "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "the weekend",
    ]
    static let fillers = [
        "Also, the café near me sells a naïve little guide to this.", "Honestly it's a bit confusing.",
        "No rush — whenever you have a moment.", "I read something about it on a forum.",
    ]
}
