/* A session implementation that runs nothing, for the tests that drive a
 * session's events and inputs by hand: session_alloc(&test_impl, ...). */
#pragma once

#include "session/session_priv.h"

static GError *test_impl_run(Session *s)
{
    (void)s;
    return NULL;
}

static void test_impl_finish(Session *s)
{
    (void)s;
}

static const SessionImpl test_impl = {
    .protocol = "test", .run = test_impl_run, .finish = test_impl_finish};
