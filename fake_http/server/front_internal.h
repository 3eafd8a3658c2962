/* SPDX-License-Identifier: MIT */
/* front_internal.h: what front_door.c (the listening socket, the thread, the stop) and
 * front_relay.c (one connection's relay) share; not for other files. Everything here runs on
 * the front door's loop thread, except add_lock and stopping. */
#ifndef SF_FRONT_INTERNAL_H
#define SF_FRONT_INTERNAL_H

#include "front_check.h"
#include "front_door.h"
#include "io_loop.h"

#include <stdbool.h>
#include <stddef.h>

/* Client to server: a whole head must fit while it is checked (SF_FC_HEAD_MAX + 1 bytes are
 * needed to see one byte too many). */
#define SF_FRONT_UP_BUF (SF_FC_HEAD_MAX + 4096u)
/* Server to client. Beyond it, the pair's socket buffer, then libmicrohttpd's own queues
 * (event-stream queue, WebSocket outbox) hold what a slow client has not read. */
#define SF_FRONT_DOWN_BUF (16u * 1024u)
#define SF_FRONT_ANSWER_MAX 1024u
/* Once libmicrohttpd's side is closed (or a request refused), the client has
 * SF_FRONT_FLUSH_MS to take what is left, then SF_FRONT_LINGER_MS to close after the relay's
 * own half-close; meanwhile the relay reads and drops what it still sends, so that an answer
 * is not lost to a reset. */
#define SF_FRONT_FLUSH_MS 10000
#define SF_FRONT_LINGER_MS 2000
/* accept() out of descriptors (EMFILE, ENFILE) or memory: no accepting for this long. */
#define SF_FRONT_ACCEPT_PAUSE_MS 100
#define SF_FRONT_ACCEPTS_PER_TURN 64
/* Empty buffers kept for reuse (each way), so that a busy connection does not go to malloc,
 * and possibly the kernel, for every read. */
#define SF_FRONT_SPARE_BUFS 64

enum {
    SF_FRONT_LISTEN,
    SF_FRONT_PAUSE,
    SF_FRONT_TAKE,
    SF_FRONT_CLIENT,
    SF_FRONT_PAIR,
    SF_FRONT_TIMER
};

/* A watch of the loop and what it belongs to. */
typedef struct sf_front_end {
    sf_io_watch w;
    struct sf_relay *relay; /* NULL: the front door's own (listen, pause) */
    int side;               /* SF_FRONT_* */
} sf_front_end;

typedef struct sf_relay {
    sf_front_end client, pair, timer; /* timer: deadlines only, never in the epoll set */
    struct sf_front *front;
    struct sf_relay *prev, *next; /* front->relays */
    int mhd_fd;                   /* libmicrohttpd's end of the pair (only compared) */
    bool client_given;            /* the client's socket went to the WebSocket layer */
    sf_front_check check;
    /* up: [sent, checked) may go to the pair; [checked, examined) waits for the checker's
     * verdict; [examined, len) is not looked at yet (an Upgrade request's answer) */
    size_t up_len, up_sent, up_checked, up_examined;
    size_t down_len, down_sent;
    size_t answer_len, answer_sent; /* a refusal */
    char answer_head[12];           /* the first bytes of an Upgrade request's answer */
    size_t answer_seen;
    bool client_eof, client_shut, client_dead;
    bool pair_closed, pair_shut;
    bool refused, closed;
    /* allocated while they hold bytes: an idle connection costs its descriptors and this
     * structure only */
    char *up;     /* SF_FRONT_UP_BUF */
    char *down;   /* SF_FRONT_DOWN_BUF */
    char *answer; /* SF_FRONT_ANSWER_MAX */
} sf_relay;

struct sf_front {
    sf_io_loop loop;
    sf_front_end listen, pause;
    int listen_fd;
    struct MHD_Daemon *daemon;
    sf_front_answer_fn answer;
    void *answer_ctx;
    sf_relay *relays;
    unsigned live, live_max; /* relays whose pair is open; past live_max, no accepting */
    bool full;               /* not accepting because of live_max */
    char *spare_up[SF_FRONT_SPARE_BUFS], *spare_down[SF_FRONT_SPARE_BUFS];
    unsigned spare_ups, spare_downs;
    pthread_mutex_t add_lock; /* held around MHD_add_connection; guards stopping and takes */
    bool stopping;
    sf_front_end take_turn;      /* scheduled when takes has requests */
    struct sf_front_take *takes; /* sf_front_take_client's requests */
    pthread_cond_t taken;        /* a request was answered */
};

/* front_relay.c. A relay between client_fd and pair_fd, watched. NULL: out of memory or epoll
 * refused (the caller closes both). */
sf_relay *sf_relay_new(struct sf_front *f, int client_fd, int pair_fd, int mhd_fd);
/* sf_front_take_client's work for this relay: false when it is not an upgraded connection
 * whose 101 is passed on (it then goes on as before). */
bool sf_relay_give_client(sf_relay *r, int *client_fd, char **rest, size_t *rest_len);
/* An event (or, events 0, a scheduled turn) for one of the relay's watches. */
void sf_relay_service(sf_front_end *e, uint32_t events);
/* The relay's deadline passed: it is closed. */
void sf_relay_expired(sf_relay *r);
/* Closes both sockets now (the relay is freed on a later turn). */
void sf_relay_close(sf_relay *r);
/* At the stop (the thread has ended): passes on what the client takes at once, frees. */
void sf_relay_finish(sf_relay *r);

/* front_door.c: a relay's pair closed (f->live went down): accepting resumes if it was full. */
void sf_front_room(struct sf_front *f);

#endif
