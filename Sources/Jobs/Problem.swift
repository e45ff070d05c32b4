/// One thing wrong with a batch of job files, located for the report.
struct Problem: Sendable {
    var file: String
    /// Position of `file` among the files given, so problems sort the way the operator listed the files.
    var fileIndex: Int
    var line: Int
    var message: String

    var description: String { "\(file):\(line): \(message)" }
}

/// The problems found so far, in the order found.
struct ProblemLog: Sendable {
    private(set) var problems: [Problem] = []

    var isEmpty: Bool { problems.isEmpty }
    var count: Int { problems.count }

    mutating func add(_ problem: Problem) {
        problems.append(problem)
    }

    mutating func add(contentsOf more: [Problem]) {
        problems += more
    }

    /// The problems as the report shows them: by file as given, then line, then order found.
    func sortedDescriptions() -> [String] {
        problems.enumerated()
            .sorted { lhs, rhs in
                (lhs.element.fileIndex, lhs.element.line, lhs.offset)
                    < (rhs.element.fileIndex, rhs.element.line, rhs.offset)
            }
            .map(\.element.description)
    }
}

/// One job file's problems: the file's name and index are fixed, only line and message vary.
struct FileProblems {
    let file: String
    let fileIndex: Int
    private(set) var problems: [Problem] = []

    init(file: String, fileIndex: Int) {
        self.file = file
        self.fileIndex = fileIndex
    }

    var count: Int { problems.count }

    mutating func add(line: Int, _ message: String) {
        problems.append(Problem(file: file, fileIndex: fileIndex, line: line, message: message))
    }
}

/// A value and the line it was written on.
struct Located<Value> {
    var value: Value
    var line: Int
}

extension Located: Sendable where Value: Sendable {}
