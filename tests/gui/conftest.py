import pytest


@pytest.fixture(autouse=True)
def _collect_garbage_on_the_gui_thread(qapp):
    """As the app does: a cycle holding a Qt object must not be collected by a worker."""
    from imbalance_studio.gui.main_thread_gc import install

    install(qapp)


@pytest.fixture
def window(qtbot):
    from imbalance_studio.gui.main_window import MainWindow

    win = MainWindow()
    qtbot.addWidget(win)  # closed at teardown: stops the scan and the thumbnail pool
    win.show()
    return win


@pytest.fixture
def wait_scanned(qtbot):
    """Wait until the window's scan (listing and check) has finished."""

    def wait(win, timeout=60_000):
        qtbot.waitUntil(
            lambda: win.session.checked and not win.session.busy and not win.chart_pending,
            timeout=timeout,
        )

    return wait
