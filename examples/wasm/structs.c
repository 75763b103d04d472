// Structures that JavaScript allocates in this module's memory (with buddy-alloc's Heap) and that
// these functions read and write through plain pointers. No libc: built with build.sh.

typedef struct {
  double x, y;
} Point;

void point_init(Point *p, double x, double y) {
  p->x = x;
  p->y = y;
}

double point_len2(const Point *p) { return p->x * p->x + p->y * p->y; }

void point_add(Point *into, const Point *a, const Point *b) {
  into->x = a->x + b->x;
  into->y = a->y + b->y;
}

typedef struct Node {
  int value;
  struct Node *next;
} Node;

// Makes `node` (memory the caller allocated) the new head in front of `head`.
Node *list_push(Node *node, Node *head, int value) {
  node->value = value;
  node->next = head;
  return node;
}

int list_sum(const Node *head) {
  int sum = 0;
  for (; head; head = head->next) sum += head->value;
  return sum;
}

int list_len(const Node *head) {
  int n = 0;
  for (; head; head = head->next) n++;
  return n;
}

Node *list_next(const Node *node) { return node->next; }

// The module's own static data: the heap must leave it untouched.
static const char greeting[] = "hello from structs.c";
const char *greeting_ptr(void) { return greeting; }
