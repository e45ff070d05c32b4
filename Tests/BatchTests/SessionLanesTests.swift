import Jobs
import Testing

@testable import Batch

@Suite struct SessionLanesTests {
    /// Sessions listed one after another, as exports and the sample data list them.
    static func messages(sessions: Int, each: Int) -> [Message] {
        (0..<sessions).flatMap { session in
            (0..<each).map { position in
                Message(
                    user: "user-\(session % 3)", session: "s\(session)", position: position, role: .user,
                    content: "m", line: session * each + position + 1)
            }
        }
    }

    /// Drains `lanes`, finishing each batch before taking the next (one task), or keeping `running` in flight.
    static func drain(_ source: [Message], lanes: Int, batchSize: Int, running: Int) -> [SessionLanes.Batch] {
        var feed = SessionLanes(lanes: lanes, batchSize: batchSize)
        var iterator = source.makeIterator()
        var taken: [SessionLanes.Batch] = []
        var inFlight: [SessionLanes.Batch] = []
        while let batch = feed.next(reading: { iterator.next() }) {
            taken.append(batch)
            inFlight.append(batch)
            if inFlight.count >= running {
                let finished = inFlight.removeFirst()
                feed.inFlight.withLock { inFlight in
                    for lane in finished.lanes { inFlight[lane] -= 1 }
                }
            }
        }
        return taken
    }

    @Test(arguments: [1, 2, 4])
    func everyMessageGoesOutOnceInSourceOrderPerSession(running: Int) {
        let source = Self.messages(sessions: 23, each: 37)
        let batches = Self.drain(source, lanes: 4, batchSize: 50, running: running)
        let handedOut = batches.flatMap(\.messages)
        #expect(handedOut.count == source.count)
        #expect(batches.allSatisfy { $0.messages.count <= 50 && !$0.messages.isEmpty })
        for session in Set(source.map(\.session)) {
            #expect(handedOut.filter { $0.session == session } == source.filter { $0.session == session })
        }
    }

    @Test func aSessionStaysInOneLane() {
        let batches = Self.drain(Self.messages(sessions: 40, each: 30), lanes: 4, batchSize: 25, running: 4)
        var laneOfSession: [String: Int] = [:]
        for batch in batches where batch.lanes.count == 1 {
            for message in batch.messages {
                #expect(laneOfSession[message.session, default: batch.lanes[0]] == batch.lanes[0])
                laneOfSession[message.session] = batch.lanes[0]
            }
        }
        #expect(Set(laneOfSession.values).count > 1)
        // Only what is left at the end of the source mixes lanes.
        #expect(batches.dropLast(4).allSatisfy { $0.lanes.count == 1 })
    }

    @Test func aSmallSourceIsNotCutIntoABatchPerLane() {
        let batches = Self.drain(Self.messages(sessions: 6, each: 1), lanes: 8, batchSize: 4, running: 1)
        #expect(batches.map(\.messages.count) == [4, 2])
    }

    @Test func oneLaneAloneIsHandedOutInFullBatches() {
        let batches = Self.drain(Self.messages(sessions: 1, each: 120), lanes: 4, batchSize: 50, running: 1)
        #expect(batches.map(\.messages.count) == [50, 50, 20])
    }
}
