// A free loopback TCP port, for a rendezvous or a test's server to listen on.
#ifndef HATFLEET_COMMON_FREE_PORT_H_
#define HATFLEET_COMMON_FREE_PORT_H_

namespace hat {

// A loopback TCP port nobody listens on now (the kernel's choice); 0 when none was found. Another
// process may take it before the caller binds it: fine for tests and one machine's rendezvous.
int FreeLoopbackPort();

}  // namespace hat

#endif  // HATFLEET_COMMON_FREE_PORT_H_
