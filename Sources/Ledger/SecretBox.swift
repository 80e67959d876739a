public import Foundation
internal import Crypto
package import RatingEngine

/// Seals account secrets with AES-GCM under the server's key, so the database never holds them
/// in clear: CHAP and SIP digest need the clear secret, so they cannot be hashed.
public struct SecretBox: Sendable {
    private let key: SymmetricKey

    /// Reads the 32-byte key file, creating it (mode 0600) with fresh random bytes on first start.
    public init(keyFile path: String) throws(LedgerError) {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            let fresh = SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
            guard manager.createFile(atPath: path, contents: fresh, attributes: [.posixPermissions: 0o600]) else {
                throw .storage("cannot create key file \(path)")
            }
        }
        guard let bytes = manager.contents(atPath: path) else { throw .storage("cannot read key file \(path)") }
        guard bytes.count == 32 else { throw .storage("key file \(path) holds \(bytes.count) bytes, expected 32") }
        key = SymmetricKey(data: bytes)
    }

    public func seal(_ secret: String) throws(LedgerError) -> Data {
        var random = SystemRandomNumberGenerator()
        return try seal(secret, nonceFrom: &random)
    }

    /// Seals with a random 96-bit nonce drawn from `random`, which must be cryptographic.
    func seal(_ secret: String, nonceFrom random: inout some RandomNumberGenerator) throws(LedgerError) -> Data {
        do {
            let words = (random.next() as UInt64, random.next() as UInt64)
            let nonce = try withUnsafeBytes(of: words) { try AES.GCM.Nonce(data: $0.prefix(12)) }
            guard let combined = try AES.GCM.seal(Data(secret.utf8), using: key, nonce: nonce).combined else {
                throw LedgerError.storage("AES-GCM produced no combined form")
            }
            return combined
        } catch {
            throw .storage("cannot seal a secret: \(error)")
        }
    }

    /// A stored batch's printable export: each card's sealed password opened again.
    package func printable(_ rows: [(pin: String, sealed: Data, expiresAt: Int64?)], value: Money) throws(LedgerError)
        -> [PrintableCard]
    {
        var cards: [PrintableCard] = []
        cards.reserveCapacity(rows.count)
        for row in rows {
            cards.append(PrintableCard(pin: row.pin, password: try open(row.sealed), value: value, expiresAt: row.expiresAt))
        }
        return cards
    }

    public func open(_ sealed: Data) throws(LedgerError) -> String {
        do {
            let box = try AES.GCM.SealedBox(combined: sealed)
            return String(decoding: try AES.GCM.open(box, using: key), as: UTF8.self)
        } catch {
            throw .storage("cannot open a sealed secret (wrong key file?)")
        }
    }
}

/// PINs, passwords and voucher codes from the kernel's cryptographic generator.
struct CodeGenerator {
    var random = KernelRandom()
    private var pool: UInt64 = 0
    private var poolDigits = 0

    /// Uniform decimal digits, 19 from each 64-bit draw below the largest multiple of 10^19.
    private mutating func digit() -> UInt8 {
        if poolDigits == 0 {
            let limit = UInt64.max - UInt64.max % 10_000_000_000_000_000_000
            repeat { pool = random.next() } while pool >= limit
            poolDigits = 19
        }
        defer { pool /= 10; poolDigits -= 1 }
        return UInt8(pool % 10)
    }

    mutating func digits(_ count: Int, after prefix: String = "") -> String {
        var bytes = Array(prefix.utf8)
        bytes.reserveCapacity(prefix.utf8.count + count)
        for _ in 0..<count { bytes.append(48 + digit()) }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// The kernel's cryptographic generator (getentropy, at most 256 bytes a call), read a block at a
/// time: a million-card batch made one system call per 8 bytes through SystemRandomNumberGenerator.
struct KernelRandom: RandomNumberGenerator {
    private var words = [UInt64](repeating: 0, count: 32)
    private var used = 32

    mutating func next() -> UInt64 {
        if used == words.count {
            refill()
            used = 0
        }
        defer { used += 1 }
        return words[used]
    }

    private mutating func refill() {
        words.withUnsafeMutableBytes { buffer in
            guard let base = buffer.baseAddress else { return }
            // As SystemRandomNumberGenerator does: without the kernel's generator there is no safe PIN.
            guard getentropy(base, buffer.count) == 0 else { fatalError("getentropy failed: errno \(errno)") }
        }
    }
}
