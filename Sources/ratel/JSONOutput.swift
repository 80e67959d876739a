import Foundation
import RatingEngine

/// JSON with keys in the order written: `ratel` output is read by people as well as scripts,
/// and Foundation's encoder on Linux orders keys arbitrarily.
enum JSON {
    case string(String)
    case int(Int64)
    case bool(Bool)
    case array([JSON])
    case object([(String, JSON)])

    func rendered(indent: String = "") -> String {
        let inner = indent + "  "
        switch self {
        case .string(let text): return JSON.quote(text)
        case .int(let number): return String(number)
        case .bool(let flag): return flag ? "true" : "false"
        case .array(let items):
            guard !items.isEmpty else { return "[]" }
            return "[\n" + items.map { inner + $0.rendered(indent: inner) }.joined(separator: ",\n") + "\n\(indent)]"
        case .object(let members):
            guard !members.isEmpty else { return "{}" }
            return "{\n" + members.map { inner + JSON.quote($0.0) + ": " + $0.1.rendered(indent: inner) }
                .joined(separator: ",\n") + "\n\(indent)}"
        }
    }

    func print() {
        FileHandle.standardOutput.write(Data((rendered() + "\n").utf8))
    }

    static func quote(_ text: String) -> String { JSONText.quoted(text) }
}
