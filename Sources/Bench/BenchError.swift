/// A measurement that could not be taken, with the reason the report and stderr show.
struct BenchError: Error, CustomStringConvertible {
    var description: String

    init(_ description: String) {
        self.description = description
    }
}
