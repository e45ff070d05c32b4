import Dispatch
import Glibc

/// Turns SIGINT and SIGTERM into a call, instead of the default of dying on the spot, so a batch can stop taking
/// work, let running units finish or roll back, close its pool and write its report.
final class SignalWatcher {
    private var sources: [any DispatchSourceSignal] = []

    init(_ signals: [Int32], handler: @escaping @Sendable (Int32) -> Void) {
        for number in signals {
            // Ignored at the process level so only the dispatch source sees it.
            signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { handler(number) }
            source.resume()
            sources.append(source)
        }
    }

    deinit {
        for source in sources { source.cancel() }
    }
}
