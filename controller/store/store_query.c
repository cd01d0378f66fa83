/* store_query.c — being written. */
#include "store_query.h"
