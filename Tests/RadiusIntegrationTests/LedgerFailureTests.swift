import Foundation
import Testing

/// A ledger that can no longer write: the server keeps running but answers nothing that would
/// need the ledger, Status-Server included, so NASes and proxies fail over.
@Suite(.serialized) struct LedgerFailureTests {
    @Test func afterAFailedLedgerWriteStatusServerGoesUnanswered() throws {
        let server = try RatelServer()
        let card = try server.issue(count: 1, value: "100000.00", maxCalls: 1_000)[0]
        // One page of room beyond the ledger as issued: once checkpoints can no longer grow the
        // database, the write-ahead log fills that much and its next write fails with EFBIG, as
        // on a full disk (here after about 160 calls).
        let sizes = try FileManager.default.contentsOfDirectory(atPath: server.data).map { name in
            (try FileManager.default.attributesOfItem(atPath: server.data + "/" + name)[.size] as? Int) ?? 0
        }
        server.fileSizeLimit = (sizes.max() ?? 0) + 4096
        try server.start()
        defer { server.stop() }
        let lab = "127.0.0.1:\(server.authV4)"
        let healthy = try Tool.radclient(["Message-Authenticator = 0x00"], server: lab, kind: "status", secret: "lab-secret")
        #expect(healthy.code == "Access-Accept", "\(healthy)")

        var accepted = 0
        while accepted < 1_000, try server.authorise(card, session: "fill-\(accepted)").code == "Access-Accept" {
            accepted += 1
        }
        #expect(accepted > 0 && accepted < 1_000, "\(accepted) calls authorised under a \(server.fileSizeLimit ?? 0)-octet limit")

        // The unanswered call was counted already; the Status-Server must add one of its own.
        let dropped = #"ratel_radius_dropped_total{listener="authentication",nas="lab",reason="ledger_failure"}"#
        let droppedBefore = try server.metric(dropped)
        #expect(droppedBefore >= 1, "\(dropped) = \(droppedBefore)")
        let failed = try Tool.radclient(["Message-Authenticator = 0x00"], server: lab, kind: "status", secret: "lab-secret")
        #expect(failed.code == nil, "\(failed)")
        #expect(server.process.isRunning)
        let droppedAfter = try server.metric(dropped)
        #expect(droppedAfter == droppedBefore + 1, "\(dropped): \(droppedBefore) before Status-Server, \(droppedAfter) after")
    }
}
