/// A fact to plant in a user's conversation and the question that asks for it in other words.
///
/// Each family words its facts and questions differently on purpose, so a retriever is measured on what people do:
/// other word forms ("repaired" / "fix"), question words ("where", "when"), names, dates, questions whose answer is
/// spread over several messages, and facts that changed, where only the latest statement answers. What makes them
/// hard is what makes real questions hard:
///
/// - The answer shares few of the question's words: the question asks in its own words ("fix", "leaky", "doctor"),
///   the answer was said in others ("repaired", "leaking", "Dr"), and a fact that changed is restated briefly ("the
///   bank one"), as people do once the subject is known.
/// - Distractors share more of them: messages in which the user asks about the same thing or names the same person
///   without saying the fact, and, since a user's facts of one family are asked alike, the question's common words
///   recur in the user's other facts and their distractors.
/// - A changed fact is said three times; the older statements repeat the question's words.
struct PlantedFact {
    /// The label category, one per family.
    var category: String
    /// The messages stating the fact, oldest first; each is said by the user in a session of its own.
    var statements: [String]
    /// Which statements answer the question (indexes into `statements`).
    var relevant: [Int]
    var question: String
    /// Messages that share the question's words but do not answer it, planted in sessions of their own.
    var distractors: [String] = []

    /// The families, in the order a user's facts cycle through them (see ``FactWords/maximumFacts``).
    static let families: [@Sendable (inout FactWords, inout SplitMix64) -> PlantedFact] = [
        wordForms, questionWords, names, dates, severalMessages, latestWins,
    ]

    /// Messages of the assistant that name the fact's subject, saying nothing about it, placed in the assistant's
    /// turns: an assistant keeps naming what the user talks about.
    var echoes: [String] = []

    /// Adds two passing mentions of `subject` by the user to the distractors and four by the assistant to the echoes,
    /// none saying anything about it: people (and assistants) keep naming what they talk about, so a subject appears
    /// in far more messages than the one that answers a question about it.
    private mutating func mention(_ subject: String, _ random: inout SplitMix64) {
        func draw(_ count: Int, _ templates: [String]) -> [String] {
            var left = templates
            return (0..<count).map { _ in left.remove(at: random.next(below: left.count)) }
        }
        distractors += draw(
            2,
            [
                "\(subject) came up again today, long story.", "Remind me to ask about \(subject) later.",
                "Not sure what to think about \(subject) any more.", "Someone at work mentioned \(subject) too.",
                "I keep forgetting to tell you about \(subject).", "Funny how \(subject) keeps coming back.",
                "Let's not talk about \(subject) tonight.", "Add \(subject) to the list for the weekend.",
            ])
        echoes += draw(
            4,
            [
                "How are things with \(subject) these days?", "Tell me more about \(subject) whenever you like.",
                "I remember you mentioned \(subject) before.", "It sounds like \(subject) matters to you.",
                "Let me know how it goes with \(subject).", "We can come back to \(subject) later.",
                "Is \(subject) still on your mind?", "Noted about \(subject).",
            ])
    }

    private static func wordForms(_ words: inout FactWords, _ random: inout SplitMix64) -> PlantedFact {
        let object = words.take(.objects)
        let room = words.take(.rooms)
        var fact = random.pick([
            PlantedFact(
                category: "word_forms", statements: ["I finally repaired the leaking \(object) in the \(room) today."],
                relevant: [0], question: "Did I ever fix that leaky \(object)?",
                distractors: [
                    "Is a new \(object) worth it, or should I fix the old one?", "The \(object) is so loud.",
                    "How hard is it to fix a leaky \(object) yourself?",
                ]),
            PlantedFact(
                category: "word_forms", statements: ["Painted the \(room) walls and replaced the \(object) handles."],
                relevant: [0], question: "when was I painting the \(room) and replacing handles",
                distractors: [
                    "The \(room) still smells of dinner.", "When I paint the \(room) I want a lighter colour.",
                    "Replacing handles is a job for when I have a free weekend.",
                ]),
        ])
        fact.mention(fact.question.contains(room) ? "the \(room)" : "the \(object)", &random)
        return fact
    }

    private static func questionWords(_ words: inout FactWords, _ random: inout SplitMix64) -> PlantedFact {
        let clinic = words.take(.places)
        let activity = words.take(.activities)
        let doctor = words.take(.people)
        var fact = random.pick([
            PlantedFact(
                category: "question_words",
                statements: ["My appointment with Dr \(doctor) got moved to the \(clinic) clinic, near the station."],
                relevant: [0], question: "Where do I see doctor \(doctor) now?",
                distractors: [
                    "Dr \(doctor) says I should sleep more.", "\(doctor) prescribed new drops, doctor's orders.",
                    "Do I still need to see doctor \(doctor) now that the drops work?",
                ]),
            PlantedFact(
                category: "question_words",
                statements: ["I signed up for \(activity) lessons at the \(clinic) community centre."],
                relevant: [0], question: "Which community centre offers the \(activity) lessons I joined?",
                distractors: [
                    "Watched a \(activity) video before bed.", "My cousin thinks \(activity) lessons are silly.",
                    "The community centre by the park offers lessons in everything except \(activity).",
                ]),
        ])
        fact.mention(fact.question.contains(doctor) ? "Dr \(doctor)" : activity, &random)
        return fact
    }

    private static func names(_ words: inout FactWords, _ random: inout SplitMix64) -> PlantedFact {
        let person = words.take(.people)
        let book = words.take(.books)
        var fact = random.pick([
            PlantedFact(
                category: "names", statements: ["\(person) from the book club keeps recommending \(book) to me."],
                relevant: [0], question: "What book did \(person) recommend?",
                distractors: [
                    "\(person) lent me an umbrella.", "Met \(person) at the market, she says hello.",
                    "\(person) asked me to recommend a book for her holiday.",
                ]),
            PlantedFact(
                category: "names", statements: ["Had lunch with \(person); she is reading \(book) for her course."],
                relevant: [0], question: "Who did I have lunch with that reads \(book)?",
                distractors: [
                    "The film of \(book) was better than I expected.", "Lunch today was soup again.",
                    "Who reads \(book) for fun? I had to for school.",
                ]),
        ])
        fact.mention(person, &random)
        return fact
    }

    private static func dates(_ words: inout FactWords, _ random: inout SplitMix64) -> PlantedFact {
        let date = words.take(.dates)
        let person = words.take(.people)
        let place = words.take(.places)
        var fact = PlantedFact(
            category: "dates", statements: ["On \(date) we celebrated \(person)'s birthday at \(place) restaurant."],
            relevant: [0],
            question: random.pick(["What happened on \(date)?", "When was \(person)'s birthday party?"]),
            distractors: [
                "\(person) moved the party planning call to \(date).", "Buy a card for \(person).",
                "What should I get \(person) for her birthday party?",
            ])
        fact.mention(person, &random)
        return fact
    }

    private static func severalMessages(_ words: inout FactWords, _ random: inout SplitMix64) -> PlantedFact {
        let trip = words.take(.places)
        let first = words.take(.gear)
        let second = words.take(.gear)
        var fact = PlantedFact(
            category: "several_messages",
            statements: [
                "Bought a \(first) for the \(trip) trip next month.", "For \(trip) I also packed my \(second).",
            ],
            relevant: [0, 1], question: "What gear do I have for the trip to \(trip)?",
            distractors: [
                "Flights to \(trip) went up again.", "Is \(trip) nice in the spring?",
                "What gear do people take on a trip to \(trip)?",
            ])
        fact.mention(trip, &random)
        return fact
    }

    private static func latestWins(_ words: inout FactWords, _ random: inout SplitMix64) -> PlantedFact {
        let account = words.take(.accounts)
        let old = words.take(.colours)
        let new = words.take(.colours)
        var fact = PlantedFact(
            category: "latest_wins",
            statements: [
                "The \(account) account's security answer is \(old), note to self.",
                "Reminder: my current \(account) security answer is still \(old).",
                "Changed the \(account) one from \(old) to \(new) today.",
            ],
            relevant: [2], question: "What is my current \(account) security answer?")
        fact.mention("the \(account) account", &random)
        return fact
    }
}

/// Words for one user's facts, each used once, so no two of a user's facts share a slot word.
struct FactWords {
    enum Kind: CaseIterable {
        case objects, rooms, places, activities, people, books, dates, gear, accounts, colours
    }

    private var unused: [Kind: [String]]

    init(_ random: inout SplitMix64) {
        var unused: [Kind: [String]] = [:]
        for kind in Kind.allCases {
            var list = Self.lists[kind] ?? []
            // Fisher-Yates with the seeded generator: each user draws its own order.
            for index in stride(from: list.count - 1, to: 0, by: -1) {
                list.swapAt(index, random.next(below: index + 1))
            }
            unused[kind] = list
        }
        self.unused = unused
    }

    /// The next unused word of `kind`. ``LabelledConversations`` gives a user few enough facts that no list runs out
    /// (``maximumFacts``); past that, a list would start over and facts would share words.
    mutating func take(_ kind: Kind) -> String {
        if unused[kind, default: []].isEmpty { unused[kind] = Self.lists[kind] ?? [] }
        return unused[kind]?.popLast() ?? ""
    }

    /// The most facts one user gets: the families take at most two words of a 20-word list per round of six facts
    /// (and three of the 30 places and of the 30 people), so 48 facts (eight rounds) use 16 (24).
    static let maximumFacts = 48

    private static let lists: [Kind: [String]] = [
        .objects: [
            "faucet", "dishwasher", "radiator", "toilet", "shower", "kettle", "boiler", "fridge", "sink", "freezer",
            "washer", "heater", "tap", "pipe", "drain", "cistern", "humidifier", "aquarium", "fountain", "sprinkler",
        ],
        .rooms: [
            "kitchen", "bathroom", "garage", "basement", "attic", "hallway", "bedroom", "study", "laundry", "porch",
            "cellar", "loft", "pantry", "nursery", "conservatory", "workshop", "veranda", "closet", "lounge", "den",
        ],
        .places: [
            "Lisbon", "Oslo", "Kyoto", "Valencia", "Tallinn", "Marseille", "Galway", "Bergen", "Porto", "Krakow",
            "Ljubljana", "Seville", "Bruges", "Salzburg", "Dubrovnik", "Hobart", "Quebec", "Cusco", "Hanoi", "Tbilisi",
            "Tromso", "Split", "Granada", "Nantes", "Aarhus", "Bologna", "Cork", "Lucerne", "Malmo", "Zermatt",
        ],
        .activities: [
            "pottery", "salsa", "fencing", "archery", "ceramics", "judo", "calligraphy", "watercolour", "origami",
            "karate", "tango", "juggling", "knitting", "woodcarving", "improv", "chess", "rowing", "climbing",
            "sculpture", "welding",
        ],
        .people: [
            "Amara", "Bronwen", "Citlali", "Dagny", "Esperanza", "Fenella", "Giedre", "Hazel", "Ingrid", "Jovana",
            "Kalinda", "Leocadia", "Marisol", "Nerys", "Oona", "Philippa", "Quilla", "Rosalind", "Solveig", "Tamsin",
            "Ulrike", "Vesna", "Wilhelmina", "Ximena", "Yolanda", "Zinnia", "Agnieszka", "Beatrix", "Cosima",
            "Delphine",
        ],
        .books: [
            "Middlemarch", "Dune", "Rebecca", "Beloved", "Emma", "Ulysses", "Persuasion", "Frankenstein", "Dracula",
            "Lolita", "Kindred", "Gilead", "Hyperion", "Neuromancer", "Solaris", "Stoner", "Atonement", "Ivanhoe",
            "Siddhartha", "Candide",
        ],
        .dates: [
            "March 3", "April 17", "May 22", "June 9", "July 14", "August 28", "September 5", "October 11",
            "November 19", "December 2", "January 26", "February 8", "March 30", "April 4", "May 15", "June 21",
            "July 1", "August 6", "September 23", "October 31",
        ],
        .gear: [
            "headlamp", "tent", "compass", "thermos", "raincoat", "backpack", "binoculars", "hammock", "poncho",
            "sleeping bag", "water filter", "trekking poles", "camp stove", "first aid kit", "sunhat", "multitool",
            "snorkel", "dry bag", "gaiters", "lantern",
        ],
        .accounts: [
            "bank", "insurance", "pension", "mortgage", "library", "gym", "utility", "phone", "broadband", "airline",
            "council", "pharmacy", "vet", "tax", "school", "dentist", "parking", "energy", "savings", "credit union",
        ],
        .colours: [
            "turquoise", "magenta", "vermilion", "chartreuse", "ochre", "cerulean", "mauve", "indigo", "saffron",
            "crimson", "lavender", "maroon", "teal", "amber", "scarlet", "olive", "periwinkle", "sienna", "fuchsia",
            "cobalt",
        ],
    ]
}
