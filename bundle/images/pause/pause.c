/*
 * Sandbox ("pause") container for labctl's offline bundle.
 *
 * Holds a pod's namespaces open and, as PID 1 of the pod, reaps zombies.
 * SIGINT/SIGTERM end it cleanly so pod teardown does not wait for SIGKILL.
 * Built with `gcc -static` so the image needs nothing but this file.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define VERSION "labctl-pause-3.10.1"

static void on_term(int signo) {
    (void)signo;
    _exit(0);
}

static void on_child(int signo) {
    (void)signo;
    int saved = errno;
    while (waitpid(-1, NULL, WNOHANG) > 0) {
    }
    errno = saved;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-v") == 0 || strcmp(argv[1], "--version") == 0)) {
        puts(VERSION);
        return 0;
    }
    if (getpid() != 1) {
        fprintf(stderr, "pause: warning: not running as PID 1, zombies are not reaped for the pod\n");
    }

    struct sigaction term = {0};
    term.sa_handler = on_term;
    sigemptyset(&term.sa_mask);
    if (sigaction(SIGINT, &term, NULL) < 0 || sigaction(SIGTERM, &term, NULL) < 0) {
        perror("pause: sigaction");
        return 1;
    }

    struct sigaction child = {0};
    child.sa_handler = on_child;
    sigemptyset(&child.sa_mask);
    child.sa_flags = SA_NOCLDSTOP | SA_RESTART;
    if (sigaction(SIGCHLD, &child, NULL) < 0) {
        perror("pause: sigaction");
        return 1;
    }

    for (;;) {
        pause();
    }
    return 42; /* not reached */
}
