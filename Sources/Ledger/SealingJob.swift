package import Foundation
import Synchronization

/// A batch's passwords, sealed on another core while its accounts and movements are written:
/// sealing is most of a million-card batch's CPU, and only the secrets rows, written last in the
/// same transaction, need it. Whoever asks for the result first helps finish it.
public final class SealingJob: Sendable {
    private let passwords: [String]
    private let box: SecretBox
    private let chunkCount: Int
    private let nextChunk = Atomic<Int>(0)
    private let chunks: Mutex<[[Data]]>
    private let failure = Mutex<LedgerError?>(nil)
    private let background = DispatchGroup()

    private static let chunkSize = 2_048

    /// Starts sealing `passwords` in the background.
    package static func start(_ passwords: [String], box: SecretBox) -> SealingJob {
        let job = SealingJob(passwords, box: box)
        guard job.chunkCount > 0 else { return job }
        job.background.enter()
        DispatchQueue.global(qos: .userInitiated).async {
            job.work()
            job.background.leave()
        }
        return job
    }

    private init(_ passwords: [String], box: SecretBox) {
        self.passwords = passwords
        self.box = box
        chunkCount = (passwords.count + Self.chunkSize - 1) / Self.chunkSize
        chunks = Mutex(Array(repeating: [], count: chunkCount))
    }

    /// The sealed passwords, in the order given; seals what is left on the calling thread first.
    package func sealed() throws(LedgerError) -> [Data] {
        work()
        background.wait()
        if let error = failure.withLock({ $0 }) { throw error }
        return chunks.withLock { $0 }.flatMap { $0 }
    }

    private func work() {
        var random = KernelRandom()
        while true {
            let chunk = nextChunk.add(1, ordering: .relaxed).oldValue
            guard chunk < chunkCount else { return }
            let range = chunk * Self.chunkSize..<min(passwords.count, (chunk + 1) * Self.chunkSize)
            var sealed: [Data] = []
            sealed.reserveCapacity(range.count)
            do throws(LedgerError) {
                for index in range { sealed.append(try box.seal(passwords[index], nonceFrom: &random)) }
            } catch {
                failure.withLock { $0 = error }
                return
            }
            chunks.withLock { $0[chunk] = sealed }
        }
    }
}
