package io.jvs.forwarder.ctl.console;

import org.junit.jupiter.api.Test;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Sessions, CSRF tokens and the failed-login limit, on a fake clock. */
class ConsoleSessionsTest {
    static final long SECOND = 1_000_000_000L;
    final AtomicLong now = new AtomicLong(1_000 * SECOND);
    final ConsoleSessions sessions = new ConsoleSessions("s3cret", now::get, new SecureRandom(), Duration.ofMinutes(10));

    @Test
    void theRightTokenOpensASessionWithItsOwnCsrfToken() {
        ConsoleSessions.Login a = sessions.login("10.0.1.2", "s3cret");
        ConsoleSessions.Login b = sessions.login("10.0.1.2", "s3cret");
        assertEquals(ConsoleSessions.Outcome.OK, a.outcome());
        assertEquals(43, a.session().id().length(), "256 bits, URL-safe base64 without padding");
        assertNotEquals(a.session().id(), b.session().id());
        assertNotEquals(a.session().csrf(), a.session().id());
        assertTrue(sessions.find(a.session().id()).isPresent());
        assertTrue(ConsoleSessions.csrfMatches(a.session(), a.session().csrf()));
        assertFalse(ConsoleSessions.csrfMatches(a.session(), b.session().csrf()), "another session's token");
        assertFalse(ConsoleSessions.csrfMatches(a.session(), ""));
        assertFalse(ConsoleSessions.csrfMatches(a.session(), null));
        assertFalse(sessions.find("forged").isPresent());
        assertFalse(sessions.find("").isPresent());
    }

    @Test
    void aSessionEndsAfterTenIdleMinutesAndEachRequestRestartsTheTimer() {
        String id = sessions.login("10.0.1.2", "s3cret").session().id();
        now.addAndGet(599 * SECOND);
        assertTrue(sessions.find(id).isPresent(), "599 s idle");
        now.addAndGet(599 * SECOND);
        assertTrue(sessions.find(id).isPresent(), "599 s after the last request");
        now.addAndGet(600 * SECOND);
        assertFalse(sessions.find(id).isPresent(), "600 s idle: gone");
        now.addAndGet(-600 * SECOND);
        assertFalse(sessions.find(id).isPresent(), "and stays gone");
        assertEquals(0, sessions.live());
    }

    @Test
    void lookingWithoutUsingDoesNotKeepASessionAlive() {
        String id = sessions.login("10.0.1.2", "s3cret").session().id();
        for (int i = 0; i < 600; i++) {
            assertTrue(sessions.peek(id).isPresent(), "second " + i);
            now.addAndGet(SECOND);
        }
        assertFalse(sessions.peek(id).isPresent(), "the page's polls alone do not keep it");
        assertFalse(sessions.find(id).isPresent());
    }

    @Test
    void logoutEndsTheSession() {
        ConsoleSessions.Session s = sessions.login("10.0.1.2", "s3cret").session();
        sessions.logout(s);
        assertFalse(sessions.find(s.id()).isPresent());
    }

    @Test
    void fiveWrongTokensLockThePeerOutForAMinuteEvenWithTheRightOne() {
        for (int i = 0; i < 5; i++) {
            assertEquals(ConsoleSessions.Outcome.WRONG_TOKEN, sessions.login("10.0.1.2", "guess" + i).outcome());
            now.addAndGet(SECOND);
        }
        ConsoleSessions.Login limited = sessions.login("10.0.1.2", "s3cret");
        assertEquals(ConsoleSessions.Outcome.RATE_LIMITED, limited.outcome());
        assertEquals(55, limited.retryAfterSeconds(), "the window opened at the first failure, 5 s ago");
        assertEquals(ConsoleSessions.Outcome.OK, sessions.login("10.0.1.3", "s3cret").outcome(), "another peer");
        now.addAndGet(54 * SECOND);
        assertEquals(ConsoleSessions.Outcome.RATE_LIMITED, sessions.login("10.0.1.2", "s3cret").outcome());
        now.addAndGet(SECOND);
        assertEquals(ConsoleSessions.Outcome.OK, sessions.login("10.0.1.2", "s3cret").outcome(), "60 s later");
    }

    @Test
    void aRightTokenClearsTheCountOfEarlierFailures() {
        for (int i = 0; i < 4; i++) {
            sessions.login("10.0.1.2", "guess");
        }
        assertEquals(ConsoleSessions.Outcome.OK, sessions.login("10.0.1.2", "s3cret").outcome());
        for (int i = 0; i < 4; i++) {
            assertEquals(ConsoleSessions.Outcome.WRONG_TOKEN, sessions.login("10.0.1.2", "guess").outcome());
        }
        assertEquals(ConsoleSessions.Outcome.OK, sessions.login("10.0.1.2", "s3cret").outcome());
    }

    @Test
    void withoutATokenNothingLogsIn() {
        ConsoleSessions off = new ConsoleSessions(null, now::get, new SecureRandom(), Duration.ofMinutes(10));
        assertFalse(off.changesEnabled());
        assertEquals(ConsoleSessions.Outcome.CHANGES_OFF, off.login("10.0.1.2", "").outcome());
        assertEquals(ConsoleSessions.Outcome.CHANGES_OFF, off.login("10.0.1.2", "s3cret").outcome());
    }

    @Test
    void atMostSixtyFourSessionsTheOldestGoesFirst() {
        String first = sessions.login("10.0.1.2", "s3cret").session().id();
        for (int i = 1; i < ConsoleSessions.MAX_SESSIONS; i++) {
            sessions.login("10.0.1.2", "s3cret");
        }
        assertTrue(sessions.find(first).isPresent());
        sessions.login("10.0.1.2", "s3cret");
        assertEquals(ConsoleSessions.MAX_SESSIONS, sessions.live());
        assertFalse(sessions.find(first).isPresent());
    }
}
