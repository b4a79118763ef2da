package io.backbeatserverless.tests;

import io.backbeatserverless.core.status.ReplicationStatus;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.openqa.selenium.By;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.Select;
import org.openqa.selenium.support.ui.WebDriverWait;
import software.amazon.awssdk.core.sync.RequestBody;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The web console in a real headless browser (Debian's chromium, driven through its chromedriver; no
 * browser download): nothing is shown without valid keys, a failed entry shows up and a retry clicked in
 * the page replicates it, and the pause switch pauses the site.
 */
class ConsoleBrowserTest extends StackScenario {

    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    private static ChromeDriver browser;

    @BeforeAll
    static void start() throws Exception {
        assumeTrue(Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER),
                "Debian's chromium and chromium-driver are not installed (.ci/run installs them)");
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--user-data-dir=" + Files.createTempDirectory("console-browser"));
        ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
                .usingAnyFreePort().build();
        browser = new ChromeDriver(service, options);
    }

    @AfterAll
    static void stop() {
        if (browser != null) {
            browser.quit();
        }
    }

    @Test
    void theConsoleShowsNothingWithoutValidKeysAndRetriesAFailedEntryClickedInThePage() throws Exception {
        String site = SharedStack.CONSOLE_LOCATION;
        stack.removeDestinationBucket("console-bucket");
        String bucket = stack.replicatedBucket(site);
        String version = stack.source.putObject(r -> r.bucket(bucket).key("clicked"), RequestBody.fromString("retry from the page")).versionId();
        stack.awaitSiteStatus(bucket, "clicked", version, site, ReplicationStatus.FAILED);

        browser.get(stack.opsEndpoint + "/console");
        signIn("accessKey1", "a-wrong-secret");
        // The page redraws its tables as data arrives: an element found a moment ago may be gone, so look again.
        var wait = new WebDriverWait(browser, Duration.ofSeconds(15)).ignoring(StaleElementReferenceException.class);
        wait.until(d -> !d.findElement(By.id("loginError")).getText().isEmpty());
        assertThat(browser.findElement(By.id("loginError")).getText()).contains("403").contains("AccessDenied");
        assertThat(browser.findElement(By.id("app")).isDisplayed()).isFalse();

        // Temporary credentials (as STS or IAM Identity Center issue; the stack's config has one): refused without their
        // session token, accepted with it.
        // The refusal's text is the same whatever was wrong (issue 32): blank the last one, so that this one is seen anew.
        ((org.openqa.selenium.JavascriptExecutor) browser).executeScript("document.getElementById('loginError').textContent = ''");
        signIn("ASIALOCALTEMPORARY1", "temporarySecretKey1");
        wait.until(d -> d.findElement(By.id("loginError")).getText().contains("403 AccessDenied"));
        assertThat(browser.findElement(By.id("app")).isDisplayed()).isFalse();
        signIn("ASIALOCALTEMPORARY1", "temporarySecretKey1", "localSessionToken1");
        try {
            wait.until(d -> d.findElement(By.id("app")).isDisplayed()
                    && !d.findElements(By.cssSelector("#sites tr[data-site='" + site + "']")).isEmpty());
        } catch (RuntimeException e) {
            screenshot("console-not-signed-in");
            throw new AssertionError("not signed in; login error '" + browser.findElement(By.id("loginError")).getText()
                    + "', page error '" + browser.findElement(By.id("appError")).getText() + "'", e);
        }
        new Select(browser.findElement(By.id("failedSite"))).selectByValue(site);
        assertThat(siteChoicesSeenDuringASitesRefresh())
                .as("the failed-entries site list, read at every turn of the page's event loop while the sites redraw "
                        + "(a click then reads it): it keeps the operator's choice throughout")
                .containsExactly(site);
        try {
            wait.until(d -> row(bucket) != null);
        } catch (RuntimeException e) {
            screenshot("console-no-row");
            throw new AssertionError("no failed row; page error: '" + browser.findElement(By.id("appError")).getText() + "', select value "
                    + browser.findElement(By.id("failedSite")).getAttribute("value"), e);
        }
        wait.until(d -> row(bucket).getText().contains("clicked") && row(bucket).getText().contains("NoSuchBucket"));
        // Issue 31: a permanent cause gets no automatic retry, and the row says so.
        assertThat(row(bucket).getText()).contains("none: its cause is permanent");
        screenshot("console-failed-entry");

        stack.createDestinationBucket("console-bucket");
        wait.until(d -> {
            row(bucket).findElement(By.cssSelector("button.retry")).click();
            return true;
        });
        wait.until(d -> d.findElement(By.id("retryResult")).getText().contains("1 entry re-queued"));
        stack.awaitSiteStatus(bucket, "clicked", version, site, ReplicationStatus.COMPLETED);
        browser.findElement(By.id("refreshFailed")).click();
        wait.until(d -> d.findElement(By.id("failedEmpty")).isDisplayed());
        assertThat(browser.findElement(By.id("failedEmpty")).getText()).startsWith("No failed entries at " + site);
        assertThat(browser.findElement(By.cssSelector("#sites tr[data-site='" + site + "'] svg")).getText())
                .as("the last hour's chart has its axes labelled").contains("/min").contains("-60 min").contains("now");
        assertThat(stack.destination.getObjectAsBytes(r -> r.bucket("console-bucket").key(bucket + "/clicked")).asUtf8String())
                .isEqualTo("retry from the page");

        // Verify from the page: the bucket's one version is at the site, identical.
        browser.findElement(By.id("verifyBucket")).sendKeys(bucket);
        browser.findElement(By.id("verifyStart")).click();
        wait.until(d -> d.findElement(By.id("verifyProgress")).getText().contains("nothing lost"));
        assertThat(browser.findElement(By.cssSelector("#verifyReport tr[data-site='" + site + "']")).getText())
                .as("site, expected 1, identical 1").startsWith(site + " 1 1 0 0 0");

        // A backfill job from the page (issue 29): the bucket's version is at the site already, so it completes with no copy.
        browser.findElement(By.id("backfillBucket")).sendKeys(bucket);
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("backfillSite"))).selectByValue(site);
        browser.findElement(By.id("backfillStart")).click();
        // The populator lists the job within a second, the replicator answers its page, the status processor records it:
        // a few seconds here, longer on a loaded machine (the whole suite at once).
        new WebDriverWait(browser, Duration.ofSeconds(90)).pollingEvery(Duration.ofSeconds(3)).ignoring(StaleElementReferenceException.class)
                .withMessage(() -> "the backfill table: " + browser.findElement(By.id("backfillJobs")).getText() + "; jobs: "
                        + stack.api("GET", "/_/backfill/jobs"))
                .until(d -> {
            // The table is read in one call: row by row, a refresh landing between two reads (the more jobs the suite
            // has started, the likelier) made every poll stale, and the job's DONE row was never seen.
            String table = d.findElement(By.cssSelector("#backfillJobs tbody")).getText();
            d.findElement(By.id("backfillRefresh")).click();
            return table.lines().anyMatch(row -> row.contains(bucket) && row.contains("DONE") && row.contains(site + ": 100%, 1 / 0 / 0"));
        });

        clickToggle(wait, site, "Pause");
        wait.until(d -> stack.api("GET", "/_/crr/status/" + site).path(site).asText().equals("disabled"));
        wait.until(d -> d.findElement(By.cssSelector("#sites tr[data-site='" + site + "'] button.toggle")).getText().equals("Resume"));
        assertThat(browser.findElement(By.cssSelector("#sites tr[data-site='" + site + "']")).getText()).contains("paused")
                .contains("none: paused until resumed");
        screenshot("console-paused-site");
        clickToggle(wait, site, "Resume");
        wait.until(d -> stack.api("GET", "/_/crr/status/" + site).path(site).asText().equals("enabled"));
    }

    /** Clicks the site's Pause/Resume switch once it reads {@code label}. */
    private static void clickToggle(org.openqa.selenium.support.ui.FluentWait<org.openqa.selenium.WebDriver> wait, String site, String label) {
        wait.until(d -> {
            WebElement toggle = d.findElement(By.cssSelector("#sites tr[data-site='" + site + "'] button.toggle"));
            if (!toggle.getText().equals(label)) {
                return false;
            }
            toggle.click();
            return true;
        });
    }

    /**
     * A repairing verify started from the page shows the backfill job it hands a site's many missing versions to (issue
     * 29), with the job's progress, and the job brings them back.
     */
    @Test
    void aRepairingVerifyFromThePageShowsItsRepairJob() {
        String site = SharedStack.AWS_LOCATION;
        String bucket = stack.replicatedBucket(site);
        int count = io.backbeatserverless.verifier.VerifyEngine.REPAIR_BY_JOB_AT + 5;
        java.util.stream.IntStream.range(0, count).parallel().forEach(i -> stack.source.putObject(r -> r.bucket(bucket).key("r" + i),
                RequestBody.fromString("repair " + i)));
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .until(() -> VerifyTest.verify(bucket, false), run -> run.path("Sites").path(site).path("Identical").asLong() == count);
        stack.destination.listObjectVersionsPaginator(r -> r.bucket("dest-bucket").prefix(bucket + "/")).versions()
                .forEach(v -> stack.destination.deleteObject(r -> r.bucket("dest-bucket").key(v.key()).versionId(v.versionId())));

        browser.get(stack.opsEndpoint + "/console");
        signIn("ASIALOCALTEMPORARY1", "temporarySecretKey1", "localSessionToken1");
        var wait = new WebDriverWait(browser, Duration.ofSeconds(60)).ignoring(StaleElementReferenceException.class);
        wait.until(d -> d.findElement(By.id("app")).isDisplayed());
        browser.findElement(By.id("verifyBucket")).sendKeys(bucket);
        browser.findElement(By.id("verifyRepair")).click();
        browser.findElement(By.id("verifyStart")).click();
        wait.until(d -> d.findElement(By.id("verifyProgress")).getText().contains(": DONE,"));
        String repairJobs = browser.findElement(By.id("verifyRepairJobs")).getText();
        assertThat(repairJobs).as("the run's repair jobs, page error '%s'", browser.findElement(By.id("appError")).getText())
                .contains("Repair job ").contains("-repair-" + site + "-" + bucket + " (" + bucket + ")").contains(site + ": ");
        String job = browser.findElement(By.cssSelector("#verifyRepairJobs li")).getAttribute("data-job");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(90)).pollInterval(Duration.ofMillis(500))
                .until(() -> stack.api("GET", "/_/backfill/jobs/" + job), j -> j.path("State").asText().equals("DONE")
                        && j.path("BySite").path(site).path("Completed").asLong() == count);
    }

    /**
     * Records the failed-entries site list's value at every turn of the page's event loop (what a click on Refresh or
     * Retry all would read at that moment) for longer than the page's 10 s sites refresh, and how many times the sites
     * table was redrawn meanwhile, so that the answer cannot come from a window with no refresh in it.
     */
    @SuppressWarnings("unchecked")
    private static List<String> siteChoicesSeenDuringASitesRefresh() {
        browser.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        Map<String, Object> watched = (Map<String, Object>) browser.executeAsyncScript("""
                const done = arguments[arguments.length - 1];
                const seen = new Set();
                let redraws = 0;
                const redrawn = new MutationObserver(() => redraws++);
                redrawn.observe(document.querySelector('#sites tbody'), { childList: true });
                const until = Date.now() + 11000;
                const look = () => {
                  seen.add(document.getElementById('failedSite').value);
                  if (Date.now() < until) { setTimeout(look, 0); } else { redrawn.disconnect(); done({ seen: [...seen], redraws }); }
                };
                look();
                """);
        assertThat(((Number) watched.get("redraws")).intValue()).as("sites table redraws while watching").isPositive();
        return (List<String>) watched.get("seen");
    }

    private static void signIn(String accessKey, String secret) {
        signIn(accessKey, secret, "");
    }

    private static void signIn(String accessKey, String secret, String sessionToken) {
        if (!browser.findElement(By.id("login")).isDisplayed()) {
            browser.findElement(By.id("signOut")).click();
        }
        browser.findElement(By.id("accessKey")).clear();
        browser.findElement(By.id("accessKey")).sendKeys(accessKey);
        browser.findElement(By.id("secretKey")).clear();
        browser.findElement(By.id("secretKey")).sendKeys(secret);
        browser.findElement(By.id("sessionToken")).clear();
        browser.findElement(By.id("sessionToken")).sendKeys(sessionToken);
        browser.findElement(By.id("signIn")).click();
    }

    private static WebElement row(String bucket) {
        return browser.findElements(By.cssSelector("#failed tbody tr")).stream()
                .filter(r -> r.getText().contains(bucket)).findFirst().orElse(null);
    }

    private static void screenshot(String name) throws Exception {
        File shot = browser.getScreenshotAs(OutputType.FILE);
        Path target = Path.of("target", name + ".png");
        Files.createDirectories(target.getParent());
        Files.copy(shot.toPath(), target, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
