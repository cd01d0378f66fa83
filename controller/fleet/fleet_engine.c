/* placeholder: being written */
#include "fleet_engine.h"
