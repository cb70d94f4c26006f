/* Stop requests (train/train.h): the signal that asked for a stop, kept until the loop takes it */
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "train/train.h"

static volatile sig_atomic_t stop_signal; /* the signal that asked for a stop, 0: none */

void db_train_request_stop(int signo) { stop_signal = signo ? signo : -1; }
int db_train_stop_pending(void) { return stop_signal != 0; }

int db_train_stop_take(void) {
    int sig = stop_signal;
    stop_signal = 0;
    return sig;
}

/* TERM or INT: the first asks for a stop; a second ends the process at once, by that signal,
 * after saying so (write(2): async-signal-safe) */
static void stop_or_end(int signo) {
    static volatile sig_atomic_t asked; /* TERMs and INTs so far (a USR1 before them is no first) */
    if (!asked++) {
        db_train_request_stop(signo);
        return;
    }
    static const char msg[] = "dropbench: a second signal: ending at once, without a checkpoint of the step in "
                              "progress (resume continues from the last one)\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    signal(signo, SIG_DFL);
    raise(signo);
}

void db_train_stop_on_signals(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = db_train_request_stop;
    sa.sa_flags = SA_RESTART; /* a read or write the signal lands in goes on (the stop is taken at a step) */
    sigemptyset(&sa.sa_mask); /* each handler runs with the others held: two signals never count as one */
    sigaddset(&sa.sa_mask, SIGUSR1);
    sigaddset(&sa.sa_mask, SIGTERM);
    sigaddset(&sa.sa_mask, SIGINT);
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = stop_or_end;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}

