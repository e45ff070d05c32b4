#ifndef CEPOLL_H
#define CEPOLL_H
// Glibc's Swift module map leaves out <sys/epoll.h>; this target brings it in for the socket reactor.
#include <sys/epoll.h>
#endif
