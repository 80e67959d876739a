/// JSON string literals, for the few places that write JSON by hand (the CLI's output, call records)
/// without pulling Foundation's encoders onto their path.
package enum JSONText {
    package static func quoted(_ text: String) -> String {
        var result = ""
        result.reserveCapacity(text.utf8.count + 2)
        appendQuoted(text, to: &result)
        return result
    }

    /// Appends `text` as a JSON string literal, in place: a call record is written on every Stop,
    /// and building each member as a string of its own cost more than the rest of the Stop.
    package static func appendQuoted(_ text: String, to result: inout String) {
        result.append("\"")
        if !text.utf8.contains(where: { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }) {
            result.append(text)
            result.append("\"")
            return
        }
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": result.append("\\\"")
            case "\\": result.append("\\\\")
            case "\n": result.append("\\n")
            case "\r": result.append("\\r")
            case "\t": result.append("\\t")
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                result.append("\\u" + String(repeating: "0", count: 4 - hex.count) + hex)
            default: result.unicodeScalars.append(scalar)
            }
        }
        result.append("\"")
    }
}
