#ifndef CEPOLL_H
#define CEPOLL_H
// Glibc's Swift module map leaves out <sys/epoll.h> and <sys/eventfd.h>; this target brings them in for the socket
// reactor.
#include <sys/epoll.h>
#include <sys/eventfd.h>
#endif
