/*
 * The raw rabbitmq-c baseline for `mercato bench broker`: the same workloads as the Swift
 * `RabbitMQBroker` benchmark, written directly against rabbitmq-c 0.11, so the wrapper's cost
 * is a ratio measured in one run on one machine.
 *
 *   amqp-baseline publish HOST PORT USER PASSWORD VHOST QUEUE BATCH COUNT SIZE
 *       COUNT persistent, mandatory messages of SIZE bytes to QUEUE (default exchange) with
 *       publisher confirms: BATCH messages pipelined, then wait until all are confirmed.
 *   amqp-baseline consume HOST PORT USER PASSWORD VHOST QUEUE PREFETCH COUNT ACK_EVERY
 *       COUNT deliveries from QUEUE with PREFETCH, acknowledged with `multiple` every
 *       ACK_EVERY deliveries.
 *
 * Prints one line: `messages_per_second=<number>`. Build: cc -O2 amqp-baseline.c -lrabbitmq
 */
#include <amqp.h>
#include <amqp_framing.h>
#include <amqp_tcp_socket.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void die(const char *what) {
  fprintf(stderr, "amqp-baseline: %s\n", what);
  exit(1);
}

static void check_reply(amqp_rpc_reply_t reply, const char *what) {
  if (reply.reply_type != AMQP_RESPONSE_NORMAL) die(what);
}

static double now_seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static amqp_connection_state_t open_connection(char **argv) {
  amqp_connection_state_t conn = amqp_new_connection();
  amqp_socket_t *socket = amqp_tcp_socket_new(conn);
  if (!socket) die("cannot create a socket");
  if (amqp_socket_open(socket, argv[2], atoi(argv[3])) != AMQP_STATUS_OK) die("cannot connect");
  check_reply(amqp_login(conn, argv[6], 0, 131072, 30, AMQP_SASL_METHOD_PLAIN, argv[4], argv[5]), "login failed");
  amqp_channel_open(conn, 1);
  check_reply(amqp_get_rpc_reply(conn), "channel.open failed");
  return conn;
}

/* Waits until every tag up to `published` is acked; a nack or return is fatal. */
static void wait_for_confirms(amqp_connection_state_t conn, uint64_t published, uint64_t *confirmed) {
  while (*confirmed < published) {
    amqp_frame_t frame;
    amqp_maybe_release_buffers(conn);
    if (amqp_simple_wait_frame(conn, &frame) != AMQP_STATUS_OK) die("connection lost while waiting for confirms");
    if (frame.frame_type != AMQP_FRAME_METHOD) continue;
    switch (frame.payload.method.id) {
      case AMQP_BASIC_ACK_METHOD: {
        amqp_basic_ack_t *ack = (amqp_basic_ack_t *)frame.payload.method.decoded;
        if (ack->multiple) {
          if (ack->delivery_tag > *confirmed) *confirmed = ack->delivery_tag;
        } else if (ack->delivery_tag == *confirmed + 1) {
          *confirmed += 1; /* single acks arrive in order on one channel */
        } else if (ack->delivery_tag > *confirmed) {
          *confirmed = ack->delivery_tag;
        }
        break;
      }
      case AMQP_BASIC_NACK_METHOD: die("the broker nacked a message");
      case AMQP_BASIC_RETURN_METHOD: die("a message was returned as unroutable");
      default: break;
    }
  }
}

static int publish(int argc, char **argv) {
  if (argc != 11) die("publish HOST PORT USER PASSWORD VHOST QUEUE BATCH COUNT SIZE");
  amqp_connection_state_t conn = open_connection(argv);
  const char *queue = argv[7];
  long batch = atol(argv[8]), count = atol(argv[9]), size = atol(argv[10]);
  amqp_confirm_select(conn, 1);
  check_reply(amqp_get_rpc_reply(conn), "confirm.select failed");

  char *body = malloc((size_t)size);
  memset(body, 'x', (size_t)size);
  char message_id[64];
  amqp_basic_properties_t props;
  memset(&props, 0, sizeof props);
  props._flags = AMQP_BASIC_CONTENT_TYPE_FLAG | AMQP_BASIC_DELIVERY_MODE_FLAG | AMQP_BASIC_MESSAGE_ID_FLAG |
                 AMQP_BASIC_TYPE_FLAG | AMQP_BASIC_APP_ID_FLAG | AMQP_BASIC_TIMESTAMP_FLAG;
  props.content_type = amqp_cstring_bytes("application/octet-stream");
  props.delivery_mode = AMQP_DELIVERY_PERSISTENT;
  props.type = amqp_cstring_bytes("bench");
  props.app_id = amqp_cstring_bytes("amqp-baseline");

  uint64_t published = 0, confirmed = 0;
  double start = now_seconds();
  while ((long)published < count) {
    long n = count - (long)published < batch ? count - (long)published : batch;
    for (long i = 0; i < n; i++) {
      snprintf(message_id, sizeof message_id, "baseline-%llu", (unsigned long long)published + 1);
      props.message_id = amqp_cstring_bytes(message_id);
      props.timestamp = (uint64_t)time(NULL);
      amqp_bytes_t payload = {.len = (size_t)size, .bytes = body};
      if (amqp_basic_publish(conn, 1, amqp_cstring_bytes(""), amqp_cstring_bytes(queue), 1, 0, &props, payload) != AMQP_STATUS_OK)
        die("basic.publish failed");
      published++;
    }
    wait_for_confirms(conn, published, &confirmed);
  }
  double elapsed = now_seconds() - start;
  printf("messages_per_second=%.1f\n", (double)count / elapsed);
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  free(body);
  return 0;
}

static int consume(int argc, char **argv) {
  if (argc != 11) die("consume HOST PORT USER PASSWORD VHOST QUEUE PREFETCH COUNT ACK_EVERY");
  amqp_connection_state_t conn = open_connection(argv);
  const char *queue = argv[7];
  int prefetch = atoi(argv[8]);
  long count = atol(argv[9]), ack_every = atol(argv[10]);
  amqp_basic_qos(conn, 1, 0, (uint16_t)prefetch, 0);
  check_reply(amqp_get_rpc_reply(conn), "basic.qos failed");
  amqp_basic_consume(conn, 1, amqp_cstring_bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table);
  check_reply(amqp_get_rpc_reply(conn), "basic.consume failed");

  long received = 0, unacked = 0;
  uint64_t last_tag = 0;
  double start = 0;
  while (received < count) {
    amqp_envelope_t envelope;
    amqp_maybe_release_buffers(conn);
    struct timeval timeout = {.tv_sec = 30, .tv_usec = 0};
    amqp_rpc_reply_t reply = amqp_consume_message(conn, &envelope, &timeout, 0);
    if (reply.reply_type != AMQP_RESPONSE_NORMAL) die("no delivery within 30 s");
    if (received == 0) start = now_seconds();
    received++;
    unacked++;
    last_tag = envelope.delivery_tag;
    amqp_destroy_envelope(&envelope);
    if (unacked >= ack_every || received == count) {
      if (amqp_basic_ack(conn, 1, last_tag, 1) != AMQP_STATUS_OK) die("basic.ack failed");
      unacked = 0;
    }
  }
  double elapsed = now_seconds() - start;
  printf("messages_per_second=%.1f\n", (double)(count - 1) / elapsed);
  amqp_channel_close(conn, 1, AMQP_REPLY_SUCCESS);
  amqp_connection_close(conn, AMQP_REPLY_SUCCESS);
  amqp_destroy_connection(conn);
  return 0;
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "publish") == 0) return publish(argc, argv);
  if (argc > 1 && strcmp(argv[1], "consume") == 0) return consume(argc, argv);
  die("usage: amqp-baseline publish|consume ... (see the comment at the top)");
  return 1;
}
