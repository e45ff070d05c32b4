#define _GNU_SOURCE
#include "CYAMLEvents.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

// The header and the library come from one Debian version (libyaml-dev requires libyaml-0-2 of its own version),
// so the struct layouts below are the library's.
static struct {
    int (*parser_initialize)(yaml_parser_t *);
    void (*parser_delete)(yaml_parser_t *);
    void (*parser_set_input_string)(yaml_parser_t *, const unsigned char *, size_t);
    int (*parser_parse)(yaml_parser_t *, yaml_event_t *);
    void (*event_delete)(yaml_event_t *);
    const char *path;
    const char *error;
} libyaml;

static pthread_once_t loaded = PTHREAD_ONCE_INIT;

static void load(void) {
    void *handle = dlopen("libyaml-0.so.2", RTLD_NOW | RTLD_LOCAL);
    if (handle == NULL) {
        const char *reason = dlerror();
        libyaml.error = reason != NULL ? strdup(reason) : "libyaml-0.so.2 could not be loaded";
        return;
    }
    *(void **)&libyaml.parser_initialize = dlsym(handle, "yaml_parser_initialize");
    *(void **)&libyaml.parser_delete = dlsym(handle, "yaml_parser_delete");
    *(void **)&libyaml.parser_set_input_string = dlsym(handle, "yaml_parser_set_input_string");
    *(void **)&libyaml.parser_parse = dlsym(handle, "yaml_parser_parse");
    *(void **)&libyaml.event_delete = dlsym(handle, "yaml_event_delete");
    if (libyaml.parser_initialize == NULL || libyaml.parser_delete == NULL || libyaml.parser_set_input_string == NULL
        || libyaml.parser_parse == NULL || libyaml.event_delete == NULL) {
        libyaml.error = "libyaml-0.so.2 lacks the parser functions";
        return;
    }
    Dl_info info;
    if (dladdr(*(void **)&libyaml.parser_parse, &info) != 0 && info.dli_fname != NULL) {
        libyaml.path = strdup(info.dli_fname);
    }
}

struct mw_yaml_events {
    yaml_parser_t parser;
    yaml_event_t event;
    int holds_event;
    int finished;
};

mw_yaml_events *mw_yaml_events_open(const unsigned char *text, size_t length, const char **error) {
    pthread_once(&loaded, load);
    if (libyaml.error != NULL) {
        *error = libyaml.error;
        return NULL;
    }
    mw_yaml_events *events = calloc(1, sizeof *events);
    if (events == NULL || libyaml.parser_initialize(&events->parser) != 1) {
        free(events);
        *error = "out of memory";
        return NULL;
    }
    // libyaml asserts a non-NULL input, which an empty Swift array may not have.
    static const unsigned char empty[1] = {0};
    libyaml.parser_set_input_string(&events->parser, text != NULL ? text : empty, length);
    return events;
}

int mw_yaml_events_next(mw_yaml_events *events, mw_yaml_event *event) {
    if (events->holds_event) {
        libyaml.event_delete(&events->event);
        events->holds_event = 0;
    }
    if (events->finished || libyaml.parser_parse(&events->parser, &events->event) != 1) {
        events->finished = 1;
        return 0;
    }
    events->holds_event = 1;
    const yaml_event_t *current = &events->event;
    event->line = current->start_mark.line;
    event->anchor = NULL;
    switch (current->type) {
    case YAML_STREAM_END_EVENT:
        events->finished = 1;
        return 0;
    case YAML_SCALAR_EVENT:
        event->kind = MW_YAML_SCALAR;
        event->anchor = (const char *)current->data.scalar.anchor;
        break;
    case YAML_ALIAS_EVENT:
        event->kind = MW_YAML_ALIAS;
        event->anchor = (const char *)current->data.alias.anchor;
        break;
    case YAML_SEQUENCE_START_EVENT:
        event->kind = MW_YAML_SEQUENCE_START;
        event->anchor = (const char *)current->data.sequence_start.anchor;
        break;
    case YAML_MAPPING_START_EVENT:
        event->kind = MW_YAML_MAPPING_START;
        event->anchor = (const char *)current->data.mapping_start.anchor;
        break;
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        event->kind = MW_YAML_COLLECTION_END;
        break;
    default:
        event->kind = MW_YAML_OTHER;
        break;
    }
    return 1;
}

void mw_yaml_events_close(mw_yaml_events *events) {
    if (events->holds_event) {
        libyaml.event_delete(&events->event);
    }
    libyaml.parser_delete(&events->parser);
    free(events);
}

const char *mw_yaml_library_path(void) {
    pthread_once(&loaded, load);
    return libyaml.path;
}
