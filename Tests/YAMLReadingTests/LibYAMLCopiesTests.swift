import CYAMLEvents
import Foundation
import Testing
import YAMLReading
import Yams

/// Yams compiles its own libyaml into this binary under the same `yaml_*` names as the system's. The guard must run
/// the system's copy, loaded on its own, and the two must never bind to each other.
@Suite struct LibYAMLCopiesTests {
    @Test func theEventsComeFromTheSystemsLibrary() throws {
        let path = try #require(mw_yaml_library_path().map { String(cString: $0) }, "libyaml did not load")
        #expect(path.hasSuffix("/libyaml-0.so.2") || path == "libyaml-0.so.2", "\(path)")
    }

    /// The binary exports none of Yams' `yaml_*` symbols and the system's copy is loaded privately, so a lookup
    /// in the global scope finds neither: libyaml's own calls stay within libyaml, Yams' within Yams.
    @Test func neitherCopyIsVisibleToTheOther() throws {
        _ = try #require(mw_yaml_library_path(), "libyaml did not load")
        let global = UnsafeMutableRawPointer(bitPattern: 0)  // RTLD_DEFAULT
        for name in ["yaml_parser_parse", "yaml_parser_initialize", "yaml_malloc", "yaml_event_delete"] {
            #expect(dlsym(global, name) == nil, "\(name) is visible process-wide")
        }
    }

    @Test func yamsStillParsesWithItsOwnCopy() throws {
        let root = try YAMLDocument.compose("a: &x [1, 2]\nb: *x\n", maxAliasExpansion: 10, oneDocument: "")
        #expect(root?["b"]?.sequence?.count == 2)
    }
}
