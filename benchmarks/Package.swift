// swift-tools-version: 6.1
import PackageDescription

// A package of its own so that the main package's tests never build package-benchmark.
// Run from the repository root with `make bench`.
let package = Package(
    name: "ratel-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "ratel", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark.git", from: "1.38.0", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "RatingBenchmarks",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "RatingEngine", package: "ratel"),
            ],
            path: "Benchmarks/RatingBenchmarks",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ],
    swiftLanguageModes: [.v6]
)
