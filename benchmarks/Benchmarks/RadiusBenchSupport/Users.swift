import Glibc

// What the load generator and the PAP floor server share: the users file and the error they
// both stop with.

public struct Users {
    public var pins: [[UInt8]] = []
    public var passwords: [[UInt8]] = []
    public var count: Int { pins.count }

    /// `ratel pins generate --out` CSV: pin,password,... with a header line.
    public init(csv path: String) throws {
        guard let file = fopen(path, "r") else { throw LoadError("cannot open \(path)") }
        defer { fclose(file) }
        var line: UnsafeMutablePointer<CChar>?
        var capacity = 0
        var header = true
        while getline(&line, &capacity, file) > 0, let line {
            defer { header = false }
            guard !header else { continue }
            let fields = String(cString: line).split(separator: ",", maxSplits: 2)
            guard fields.count >= 2 else { continue }
            pins.append(Array(fields[0].utf8))
            passwords.append(Array(fields[1].utf8))
        }
        free(line)
        guard !pins.isEmpty else { throw LoadError("no users in \(path)") }
    }
}

public struct LoadError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// `--flag value` pairs after the leading words, as both tools take them.
public func flagValues(_ words: ArraySlice<String>) throws -> [String: String] {
    var values: [String: String] = [:]
    var list = words
    while let flag = list.popFirst() {
        guard flag.hasPrefix("--"), let value = list.popFirst() else { throw LoadError("expected --flag value, got \(flag)") }
        values[String(flag.dropFirst(2))] = value
    }
    return values
}
