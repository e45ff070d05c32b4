import Testing

@testable import Postgres

/// The claim protocol on its own: one holder at a time, and a requested close done once, by the holder.
@Suite struct ConnectionClaimTests {
    @Test func oneHolderAtATime() {
        let claim = ConnectionClaim()
        #expect(claim.take())
        #expect(!claim.take())
        claim.release { Issue.record("closed without a request") }
        #expect(claim.take())
    }

    @Test func aCloseRequestedWhileClaimedIsDoneOnceByTheHolder() {
        let claim = ConnectionClaim()
        #expect(claim.take())
        claim.requestClose()
        #expect(claim.closeRequested && !claim.isClosed)
        var closes = 0
        claim.release {
            // Still claimed while closing: nobody else can use the handle being closed.
            #expect(!claim.take())
            closes += 1
        }
        #expect(closes == 1 && claim.isClosed)
        #expect(claim.take())
        claim.release { closes += 1 }
        #expect(closes == 1)
    }
}
