package io.backbeatserverless.tests;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.extension.ExtendWith;

/** A scenario on the shared embedded stack, with the clients every scenario uses (see {@link SharedStack}). */
@ExtendWith(SharedStack.class)
abstract class StackScenario {

    protected static StackClients stack;

    @BeforeAll
    static void connectToTheStack() {
        stack = SharedStack.clients();
    }
}
