/*
 * skeleton_host_arduino.cpp -- runs an Arduino sketch's setup() and loop() on the host, for tests.
 *
 * Linked with the sketch (.ino compiled as C++), its portable sources and
 * skeleton_host.c: what an Arduino core's main() does, until stdin ends.
 */
extern "C" int edgeq_host_input_closed;

void setup();
void loop();

int main() {
    setup();
    while (!edgeq_host_input_closed) {
        loop();
    }
    return 0;
}
