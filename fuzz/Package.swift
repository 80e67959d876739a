// swift-tools-version: 6.1
import PackageDescription

// A package of its own: libFuzzer needs every target it exercises built with
// `-sanitize=fuzzer`, and an entry point the main package's build could not link.
// Run from the repository root with `scripts/fuzz.sh [seconds]`.
let package = Package(
    name: "ratel-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ratel", path: ".."),
    ],
    targets: [
        .executableTarget(
            name: "RadiusPacketFuzzer",
            dependencies: [
                .product(name: "RadiusProtocol", package: "ratel"),
            ],
            // libFuzzer brings `main`; the target only exports LLVMFuzzerTestOneInput.
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
    ],
    swiftLanguageModes: [.v6]
)
