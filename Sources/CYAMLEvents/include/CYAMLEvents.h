#ifndef CYAMLEVENTS_H
#define CYAMLEVENTS_H

#include <stddef.h>

/// libyaml's event stream, from the system's libyaml (`libyaml-0.so.2`, Debian's `libyaml-0-2`) loaded at run time.
///
/// Not linked: Yams compiles its own copy of libyaml into every binary that uses it, under the same symbol names, and
/// the linker binds every `yaml_*` call in the binary to that copy without a word. Loaded with `RTLD_LOCAL`, the
/// system's copy keeps its symbols to itself and, since the binary exports none of its `yaml_*` symbols, resolves
/// its own calls within itself: the two copies never call into each other. This header names no libyaml type, so
/// Swift never sees two declarations of one.

typedef enum {
    MW_YAML_SCALAR,
    MW_YAML_ALIAS,
    MW_YAML_SEQUENCE_START,
    MW_YAML_MAPPING_START,
    /// The end of a sequence or a mapping.
    MW_YAML_COLLECTION_END,
    /// Stream and document starts and ends: no node.
    MW_YAML_OTHER,
} mw_yaml_event_kind;

typedef struct {
    mw_yaml_event_kind kind;
    /// 0-based, as libyaml counts.
    size_t line;
    /// The anchor the node defines (`&name`) or, for an alias, the one it names (`*name`); NULL if none. Valid until
    /// the next call on the same stream.
    const char *anchor;
} mw_yaml_event;

typedef struct mw_yaml_events mw_yaml_events;

/// A stream over `length` bytes of `text`, which must outlive it; NULL with `*error` set when libyaml cannot be loaded
/// or allocated.
mw_yaml_events *mw_yaml_events_open(const unsigned char *text, size_t length, const char **error);

/// 1 with the next event in `*event`; 0 at the end of the stream or at a syntax error, which is left to the parser
/// that reads the text after.
int mw_yaml_events_next(mw_yaml_events *events, mw_yaml_event *event);

void mw_yaml_events_close(mw_yaml_events *events);

/// The file the parser functions come from (NULL if libyaml cannot be loaded): for the test that proves the stream
/// is the system's libyaml and not Yams' copy.
const char *mw_yaml_library_path(void);

#endif
