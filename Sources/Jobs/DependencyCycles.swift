/// Finds `depends_on` cycles, which would leave every job on them waiting for ever.
///
/// Each strongly connected component of the dependency graph (Tarjan's algorithm) with more than one job, or a job
/// that depends on itself, is reported once, as its shortest cycle through the component's first job in batch
/// order, so the report is stable and names exactly the entries that could be removed.
struct DependencyCycles {
    /// For each job (by index into the drafts), the jobs it depends on and the line of each entry.
    private let edges: [[(target: Int, line: Int)]]
    private var index: [Int?]
    private var lowLink: [Int]
    private var onStack: [Bool]
    private var stack: [Int] = []
    private var nextIndex = 0
    private var components: [[Int]] = []

    static func report(_ drafts: [JobDraft], firstByName: [String: Int], problems: inout ProblemLog) {
        var edges: [[(target: Int, line: Int)]] = Array(repeating: [], count: drafts.count)
        for (source, draft) in drafts.enumerated() {
            // A job with a duplicate name is reported as such; its dependencies would only blur the cycles.
            guard let name = draft.name, firstByName[name.value] == source else { continue }
            for dependency in draft.dependencies {
                guard let target = firstByName[dependency.value],
                    !edges[source].contains(where: { $0.target == target })
                else { continue }
                edges[source].append((target, dependency.line))
            }
        }
        var finder = DependencyCycles(edges: edges)
        for node in drafts.indices where finder.index[node] == nil {
            finder.connect(node)
        }
        let cyclic = finder.components.filter { component in
            component.count > 1 || edges[component[0]].contains { $0.target == component[0] }
        }
        for component in cyclic.sorted(by: { ($0.min() ?? 0) < ($1.min() ?? 0) }) {
            problems.add(finder.problem(component, drafts: drafts))
        }
    }

    private init(edges: [[(target: Int, line: Int)]]) {
        self.edges = edges
        index = Array(repeating: nil, count: edges.count)
        lowLink = Array(repeating: 0, count: edges.count)
        onStack = Array(repeating: false, count: edges.count)
    }

    /// Tarjan's strongly connected components, from `node`.
    private mutating func connect(_ node: Int) {
        index[node] = nextIndex
        lowLink[node] = nextIndex
        nextIndex += 1
        stack.append(node)
        onStack[node] = true
        for edge in edges[node] {
            if let targetIndex = index[edge.target] {
                if onStack[edge.target] { lowLink[node] = min(lowLink[node], targetIndex) }
            } else {
                connect(edge.target)
                lowLink[node] = min(lowLink[node], lowLink[edge.target])
            }
        }
        guard lowLink[node] == index[node] else { return }
        var component: [Int] = []
        while let member = stack.popLast() {
            onStack[member] = false
            component.append(member)
            if member == node { break }
        }
        components.append(component)
    }

    /// The shortest cycle through the component's first job, found breadth-first inside the component.
    private func problem(_ component: [Int], drafts: [JobDraft]) -> Problem {
        let members = Set(component)
        let start = component.min() ?? component[0]
        // For each job reached, the job and dependency entry it was reached through.
        var reachedFrom: [Int: (job: Int, line: Int)] = [:]
        var queue = [start]
        var cursor = 0
        var closing: (job: Int, line: Int)?
        search: while cursor < queue.count {
            let job = queue[cursor]
            cursor += 1
            for edge in edges[job] where members.contains(edge.target) {
                if edge.target == start {
                    closing = (job, edge.line)
                    break search
                }
                if reachedFrom[edge.target] == nil {
                    reachedFrom[edge.target] = (job, edge.line)
                    queue.append(edge.target)
                }
            }
        }
        // Walk back from the job that closes the cycle to the start.
        var path: [(job: Int, line: Int)] = []
        var step = closing
        while let current = step {
            path.append(current)
            step = current.job == start ? nil : reachedFrom[current.job]
        }
        path.reverse()
        let names = path.map { drafts[$0.job].name?.value ?? "?" } + [drafts[start].name?.value ?? "?"]
        let entries = path.map { "\(drafts[$0.job].file):\($0.line)" }
        let line = path.first?.line ?? drafts[start].line
        return JobValidation.problem(
            drafts[start], line: line,
            "dependency cycle: \(names.joined(separator: " -> ")); jobs on a cycle can never start, so remove one of "
                + "these depends_on entries: \(entries.joined(separator: ", "))")
    }
}
