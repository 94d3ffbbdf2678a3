// libpq's headers live in /usr/include/postgresql on Debian; pkg-config libpq adds it.
#include <libpq-fe.h>
