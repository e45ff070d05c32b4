extension PoolStateMachine {
    /// Waiting lease requests, first come first served, with removal of a cancelled one from anywhere in the line.
    ///
    /// Requests carry increasing ids, so the line is an array sorted by id: the head is served first and a cancelled
    /// request is found by binary search. Served and removed requests leave the front cheaply through `head`.
    struct RequestQueue {
        struct Entry: Equatable {
            var id: RequestID
            var enqueuedAt: Moment
            var deadline: Moment
        }

        private var entries: [Entry] = []
        private var head = 0

        var count: Int { entries.count - head }
        var isEmpty: Bool { head == entries.count }
        var first: Entry? { isEmpty ? nil : entries[head] }

        mutating func append(_ entry: Entry) {
            entries.append(entry)
        }

        mutating func popFirst() -> Entry? {
            guard !isEmpty else { return nil }
            defer {
                head += 1
                compactIfSparse()
            }
            return entries[head]
        }

        /// Removes the request with `id`; nil if it is not waiting (already served, failed or never queued).
        mutating func remove(_ id: RequestID) -> Entry? {
            var low = head
            var high = entries.count
            while low < high {
                let middle = (low + high) / 2
                if entries[middle].id < id { low = middle + 1 } else { high = middle }
            }
            guard low < entries.count, entries[low].id == id else { return nil }
            defer { compactIfSparse() }
            return entries.remove(at: low)
        }

        mutating func removeAll() -> [Entry] {
            defer {
                entries.removeAll(keepingCapacity: true)
                head = 0
            }
            return Array(entries[head...])
        }

        private mutating func compactIfSparse() {
            if head == entries.count {
                entries.removeAll(keepingCapacity: true)
                head = 0
            } else if head > 64, head * 2 > entries.count {
                entries.removeFirst(head)
                head = 0
            }
        }
    }
}
