// Intentionally empty: SwiftPM needs one source file to build the header-only CEpoll target.
#include "CEpoll.h"
