/// A subject users talk about, with the words that make its messages findable by full-text search.
///
/// Words are plain English nouns, verbs and adjectives, so PostgreSQL's `english` configuration stems them the way
/// it stems real conversations, and a search for "hiking" finds the hiking users.
public struct Topic: Sendable, Hashable {
    public var name: String
    public var nouns: [String]
    /// Base forms, as in "I want to {verb} the {noun}".
    public var verbs: [String]
    public var adjectives: [String]

    /// Every topic a user can be given. The order is part of the output: append, never reorder.
    public static let all: [Topic] = [
        Topic(
            name: "hiking",
            nouns: [
                "trail", "summit", "backpack", "switchback", "ridge", "trailhead", "blister", "compass", "tent",
                "waterfall",
            ],
            verbs: ["climb", "pack", "navigate", "descend", "hike", "scout"],
            adjectives: ["steep", "muddy", "alpine", "rocky", "scenic", "exposed"]),
        Topic(
            name: "postgres",
            nouns: [
                "index", "vacuum", "query plan", "replica", "tablespace", "transaction", "partition", "checkpoint",
                "connection pool", "tsvector",
            ],
            verbs: ["analyze", "reindex", "partition", "tune", "replicate", "migrate"],
            adjectives: ["bloated", "slow", "concurrent", "sequential", "stale", "locked"]),
        Topic(
            name: "sourdough",
            nouns: [
                "starter", "levain", "crumb", "crust", "banneton", "dough", "autolyse", "loaf", "rye flour",
                "proofing basket",
            ],
            verbs: ["knead", "proof", "score", "bake", "feed", "shape"],
            adjectives: ["sour", "airy", "dense", "crusty", "bubbly", "sticky"]),
        Topic(
            name: "gardening",
            nouns: [
                "tomato", "compost", "seedling", "trellis", "mulch", "raised bed", "aphid", "perennial",
                "watering can", "greenhouse",
            ],
            verbs: ["prune", "water", "transplant", "harvest", "weed", "fertilize"],
            adjectives: ["leafy", "wilted", "sunny", "shady", "fertile", "overgrown"]),
        Topic(
            name: "photography",
            nouns: [
                "lens", "aperture", "shutter", "tripod", "histogram", "exposure", "portrait", "sensor",
                "viewfinder", "polarizer",
            ],
            verbs: ["frame", "focus", "expose", "edit", "shoot", "crop"],
            adjectives: ["grainy", "overexposed", "sharp", "blurry", "wide", "moody"]),
        Topic(
            name: "chess",
            nouns: [
                "opening", "gambit", "endgame", "bishop", "knight", "rook", "pawn structure", "checkmate",
                "tournament", "blunder",
            ],
            verbs: ["castle", "sacrifice", "defend", "calculate", "attack", "resign"],
            adjectives: ["positional", "tactical", "passive", "aggressive", "solid", "doubled"]),
        Topic(
            name: "cycling",
            nouns: [
                "derailleur", "cassette", "saddle", "cadence", "headwind", "chainring", "puncture", "helmet",
                "climb", "peloton",
            ],
            verbs: ["pedal", "shift", "draft", "sprint", "patch", "commute"],
            adjectives: ["gravel", "hilly", "windy", "smooth", "tubeless", "fast"]),
        Topic(
            name: "astronomy",
            nouns: [
                "telescope", "nebula", "eyepiece", "galaxy", "eclipse", "constellation", "meteor", "star chart",
                "planet", "comet",
            ],
            verbs: ["observe", "track", "collimate", "photograph", "spot", "align"],
            adjectives: ["faint", "bright", "cloudy", "dark", "lunar", "distant"]),
        Topic(
            name: "woodworking",
            nouns: [
                "chisel", "dovetail", "workbench", "plane", "walnut", "mortise", "sandpaper", "clamp", "veneer",
                "router",
            ],
            verbs: ["sand", "glue", "carve", "plane", "measure", "finish"],
            adjectives: ["rough", "warped", "oiled", "square", "hardwood", "splintered"]),
        Topic(
            name: "jazz",
            nouns: [
                "saxophone", "chord chart", "solo", "standard", "trumpet", "bassline", "improvisation", "swing",
                "metronome", "quartet",
            ],
            verbs: ["improvise", "transcribe", "practice", "comp", "rehearse", "voice"],
            adjectives: ["syncopated", "modal", "bluesy", "mellow", "upbeat", "dissonant"]),
        Topic(
            name: "marathon",
            nouns: [
                "tempo run", "long run", "taper", "race pace", "hydration", "shin splint", "interval", "split",
                "finish line", "running shoe",
            ],
            verbs: ["run", "stretch", "recover", "taper", "train", "pace"],
            adjectives: ["sore", "negative", "steady", "humid", "hilly", "easy"]),
        Topic(
            name: "beekeeping",
            nouns: [
                "hive", "queen", "honeycomb", "smoker", "frame", "swarm", "varroa mite", "nectar", "brood",
                "beeswax",
            ],
            verbs: ["inspect", "requeen", "extract", "smoke", "split", "treat"],
            adjectives: ["docile", "defensive", "sticky", "golden", "crowded", "healthy"]),
        Topic(
            name: "knitting",
            nouns: [
                "yarn", "needle", "cable", "sweater", "gauge", "stitch marker", "scarf", "pattern", "skein",
                "purl row",
            ],
            verbs: ["knit", "purl", "cast on", "block", "unravel", "seam"],
            adjectives: ["chunky", "woolly", "loose", "tight", "ribbed", "cozy"]),
        Topic(
            name: "fermentation",
            nouns: [
                "kimchi", "kombucha", "brine", "crock", "airlock", "scoby", "sauerkraut", "miso", "mason jar",
                "culture",
            ],
            verbs: ["ferment", "salt", "burp", "strain", "bottle", "taste"],
            adjectives: ["fizzy", "tangy", "salty", "funky", "cloudy", "pungent"]),
    ]
}
