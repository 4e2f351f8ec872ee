#include "pipeline/scheduler.hpp"

#include "config/device.hpp"
#include "core/log.hpp"
#include "delivery/error.hpp"
#include "pipeline/ingester.hpp"

#include <unistd.h>

#include <algorithm>
#include <random>

namespace camrelay::pipeline {

namespace {

constexpr auto log_tag = "deliver";

double jitter_factor()
{
    thread_local std::mt19937 rng{std::random_device{}()};
    return std::uniform_real_distribution<double>(0.5, 1.0)(rng);
}

} // namespace

scheduler::scheduler(ledger::store& store, std::vector<sink_instance> sinks, std::int64_t workers,
                     bool keep_spool)
    : store_(store), workers_(workers), keep_spool_(keep_spool)
{
    for (auto& s : sinks)
    {
        auto name = s.settings.name;
        sinks_.emplace(name, sink_state{std::move(s), 0});
    }
}

scheduler::~scheduler()
{
    stop(std::chrono::seconds(0));
}

std::int64_t scheduler::backoff(std::int64_t attempts, std::int64_t min, std::int64_t max,
                                double jitter)
{
    std::int64_t delay = min;
    for (std::int64_t i = 1; i < attempts && delay < max; ++i)
        delay *= 2;
    delay = std::min(delay, max);
    auto scaled = static_cast<std::int64_t>(static_cast<double>(delay) * jitter);
    return std::max<std::int64_t>(1, scaled);
}

void scheduler::recover()
{
    if (auto n = store_.requeue_running(now_seconds()); n && *n > 0)
        log::info(log_tag, "{} delivery job(s) interrupted by a crash or kill were requeued", *n);
    if (keep_spool_)
        return;
    if (auto leftovers = store_.delivered_but_spooled())
    {
        for (auto const& [asset_id, path] : *leftovers)
            release_spool(asset_id, path);
        if (!leftovers->empty())
            log::info(log_tag, "removed {} spooled file(s) already delivered before a crash",
                      leftovers->size());
    }
}

void scheduler::release_spool(std::int64_t asset_id, std::string const& path)
{
    if (::unlink(path.c_str()) != 0 && errno != ENOENT)
    {
        log::warn(log_tag, "asset={} cannot remove spooled {}: {}", asset_id, path,
                  last_errno().message());
        return;
    }
    store_.mark_spool_removed(asset_id);
}

void scheduler::start()
{
    recover();
    thread_ = std::jthread([this] { loop(); });
}

void scheduler::run_once()
{
    recover();
    // claim_due retries the jobs last changed before the run started, in whole seconds: a job
    // that failed in an earlier run within this very second would pass for one this run
    // already tried, and stay undelivered. Let that second end first.
    auto started = now_seconds();
    if (auto latest = store_.jobs_in_state(ledger::job_state::failed_transient, 1);
        latest && !latest->empty() && latest->front().updated_at == started)
    {
        while (now_seconds() == started)
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        started = now_seconds();
    }
    {
        std::lock_guard lock(mutex_);
        one_shot_ = true;
        run_started_ = started;
    }
    loop();
    std::unique_lock lock(mutex_);
    cv_.wait(lock, [&] { return running_total_ == 0; });
    lock.unlock();
    reap();
}

void scheduler::ingest_finished()
{
    std::lock_guard lock(mutex_);
    ingest_done_ = true;
    cv_.notify_all();
}

void scheduler::notify()
{
    std::lock_guard lock(mutex_);
    notified_ = true;
    cv_.notify_all();
}

void scheduler::wake(std::string const& trigger)
{
    int woken = 0;
    for (auto& [name, s] : sinks_)
    {
        if (s.instance.settings.wake_on == trigger)
        {
            if (auto n = store_.make_due(name, now_seconds()); n)
                woken += *n;
        }
    }
    log::info(log_tag, "trigger {} fired: {} waiting job(s) made due", trigger, woken);
    notify();
}

bool scheduler::dispatch_due(std::int64_t now)
{
    bool any = false;
    for (auto& [name, s] : sinks_)
    {
        if (!sink_ready(name, s))
            continue;
        int batch = static_cast<int>(std::max<std::size_t>(1, s.instance.sink->batch_limit()));
        for (;;)
        {
            int free_sink = static_cast<int>(s.instance.settings.concurrency) - s.running;
            int free_total = static_cast<int>(workers_) - running_total_;
            int slots = std::min(free_sink, free_total);
            if (slots <= 0)
                break;
            // A batching sink takes up to `batch` jobs per worker; others one job per worker.
            // A sink that delivers messages gets a pushed message (one e-mail, one post) whole.
            bool whole = s.instance.sink->delivers_messages();
            auto claimed = store_.claim_due(name, batch > 1 ? batch : slots, now,
                                            one_shot_ ? run_started_ : 0, whole);
            if (!claimed)
            {
                log::error(log_tag, "cannot claim jobs for sink {}: {}", name,
                           claimed.error().message());
                break;
            }
            if (claimed->empty())
                break;
            std::vector<std::vector<ledger::claimed_job>> units;
            if (batch > 1 || (whole && claimed->front().asset.message))
                units.push_back(std::move(*claimed));
            else
                for (auto& job : *claimed)
                    units.push_back({std::move(job)});
            for (auto& unit : units)
            {
                auto rj = std::make_unique<running_job>();
                rj->device = s.instance.settings.device;
                auto* raw = rj.get();
                ++s.running;
                ++running_total_;
                any = true;
                auto* state = &s;
                raw->thread = std::jthread([this, state, raw, unit = std::move(unit)]() mutable {
                    run_jobs(*state, std::move(unit), raw->stop.get_token());
                    {
                        std::lock_guard lock(mutex_);
                        --state->running;
                        --running_total_;
                        raw->done = true;
                        notified_ = true;
                    }
                    cv_.notify_all();
                });
                jobs_.push_back(std::move(rj));
            }
            if (batch == 1)
                break;  // claimed as many single jobs as there were slots
        }
    }
    return any;
}

void scheduler::run_jobs(sink_state& s, std::vector<ledger::claimed_job> jobs,
                         std::stop_token stop)
{
    std::vector<delivery::request> requests;
    requests.reserve(jobs.size());
    for (auto const& job : jobs)
    {
        log::debug(log_tag, "job={} sink={} asset={} attempt={} starting", job.job.id,
                   s.instance.settings.name, job.asset.id, job.job.attempts);
        requests.push_back(delivery::request{job.job.id, job.job.attempts, job.asset, stop});
    }
    std::vector<delivery::outcome> outcomes;
    std::string missing = "the sink returned no outcome for this job";
    try
    {
        // Several jobs: a batch, or a pushed message handed over whole.
        if (requests.size() > 1 || s.instance.sink->batch_limit() > 1)
            outcomes = s.instance.sink->deliver_batch(requests);
        else
            outcomes.push_back(s.instance.sink->deliver(requests.front()));
    }
    catch (std::exception const& e)
    {
        // No exception crosses the plugin boundary: a throwing sink is a failed attempt.
        outcomes.clear();
        missing = std::string("sink threw: ") + e.what();
    }
    for (std::size_t i = 0; i < jobs.size(); ++i)
    {
        auto out = i < outcomes.size()
                       ? outcomes[i]
                       : delivery::outcome::fail(
                             make_error_code(delivery::errc::destination_unavailable), missing);
        finish(s, jobs[i], out);
    }
}

void scheduler::finish(sink_state& s, ledger::claimed_job const& job, delivery::outcome const& out)
{
    auto const& settings = s.instance.settings;
    auto now = now_seconds();
    auto const& a = job.asset;
    if (out)
    {
        if (auto ec = store_.mark_delivered(job.job.id, out.message, now))
        {
            log::error(log_tag, "job={} delivered but not recorded: {}", job.job.id, ec.message());
            return;
        }
        ++stats_.delivered;
        log::info(log_tag, "job={} sink={} delivered {} -> {}", job.job.id, settings.name, a.name,
                  out.message);
        if (!keep_spool_)
        {
            auto all = store_.all_delivered(a.id);
            if (all && *all)
                release_spool(a.id, a.spool_path);
        }
        return;
    }
    auto cond = delivery::classify(out.error);
    bool device_gone = false;
    if (cond == delivery::condition::transient && !settings.device.empty())
    {
        std::lock_guard lock(mutex_);
        device_gone = device_absent(settings);  // cut off by the device leaving: not its fault
    }
    if (cond == delivery::condition::cancelled || device_gone)
    {
        store_.mark_interrupted(job.job.id, now);
        ++stats_.interrupted;
        log::info(log_tag, "job={} sink={} interrupted; will run again", job.job.id, settings.name);
        return;
    }
    bool transient = cond == delivery::condition::transient;
    if (transient && settings.max_attempts > 0 && job.job.attempts >= settings.max_attempts)
        transient = false;
    auto why = out.message.empty() ? out.error.message() : out.message;
    if (transient)
    {
        auto retry_at = now + backoff(job.job.attempts, settings.retry_min, settings.retry_max,
                                      jitter_factor());
        // The sink may know better (a server's rate-limit reset): never earlier than that,
        // but not more than a day away whatever a server claims.
        if (out.retry_not_before > retry_at)
            retry_at = std::min(out.retry_not_before, now + 24 * 3600);
        store_.mark_failed(job.job.id, true, why, retry_at, now);
        ++stats_.failed_transient;
        log::warn(log_tag, "job={} sink={} file={} failed (attempt {}), retry in {} s: {}",
                  job.job.id, settings.name, a.name, job.job.attempts, retry_at - now, why);
    }
    else
    {
        store_.mark_failed(job.job.id, false, why, 0, now);
        ++stats_.failed_permanent;
        log::error(log_tag, "job={} sink={} file={} failed permanently: {}", job.job.id,
                   settings.name, a.name, why);
    }
}

void scheduler::reap()
{
    std::vector<std::unique_ptr<running_job>> finished;
    {
        std::lock_guard lock(mutex_);
        auto it = std::partition(jobs_.begin(), jobs_.end(),
                                 [](auto const& j) { return !j->done.load(); });
        std::move(it, jobs_.end(), std::back_inserter(finished));
        jobs_.erase(it, jobs_.end());
    }
    finished.clear();  // joins
}

void scheduler::loop()
{
    std::vector<std::string> names;
    for (auto const& [name, s] : sinks_)
        names.push_back(name);
    std::unique_lock lock(mutex_);
    while (!stopping_)
    {
        notified_ = false;
        bool dispatched = dispatch_due(now_seconds());
        bool busy = running_total_ > 0;
        lock.unlock();
        reap();
        lock.lock();
        if (dispatched)
            continue;
        if (one_shot_ && ingest_done_ && !busy)
        {
            // One last look: an arrival may have slipped in between.
            if (!dispatch_due(now_seconds()) && running_total_ == 0)
                return;
            continue;
        }
        if (notified_)
            continue;
        std::chrono::seconds wait(30);
        if (!one_shot_)
        {
            names = ungated_sinks();
            lock.unlock();
            auto next = store_.next_due(names);
            lock.lock();
            auto now = now_seconds();
            if (next && *next > now)
                wait = std::min(wait, std::chrono::seconds(*next - now));
            else if (next && *next > 0 && !busy)
                wait = std::chrono::seconds(1);  // due, but claiming failed: do not spin
        }
        cv_.wait_for(lock, wait, [&] {
            return notified_ || stopping_ || (one_shot_ && ingest_done_ && running_total_ == 0);
        });
    }
}

void scheduler::stop(std::chrono::seconds grace)
{
    {
        std::lock_guard lock(mutex_);
        if (stopping_ && !thread_.joinable() && jobs_.empty())
            return;
        stopping_ = true;
        for (auto* st : streams_)
            st->stop.request_stop();  // a cut stream records nothing: pulled again next time
    }
    cv_.notify_all();
    if (thread_.joinable())
        thread_.join();
    std::unique_lock lock(mutex_);
    if (!cv_.wait_for(lock, grace, [&] { return running_total_ == 0; }))
    {
        log::info(log_tag, "cancelling {} running deliveries", running_total_);
        for (auto& j : jobs_)
            j->stop.request_stop();
    }
    cv_.wait(lock, [&] { return running_total_ == 0; });
    lock.unlock();
    reap();
}

void scheduler::set_sink_factory(sink_factory f)
{
    std::lock_guard lock(mutex_);
    factory_ = std::move(f);
}

bool scheduler::device_absent(config::sink_settings const& s)
{
    if (s.device.empty())
        return false;
    auto it = devices_.find(s.device);
    return it == devices_.end() || !it->second.present;
}

std::vector<std::string> scheduler::ungated_sinks()
{
    std::vector<std::string> out;
    for (auto const& [name, s] : sinks_)
        if (!device_absent(s.instance.settings))
            out.push_back(name);
    return out;
}

bool scheduler::sink_ready(std::string const& name, sink_state& s)
{
    auto const& settings = s.instance.settings;
    if (settings.device.empty())
        return true;
    if (device_absent(settings))
        return false;
    if (!factory_ || !config::uses_device_address(settings))
        return true;
    auto const& gate = devices_[settings.device];
    if (gate.address.empty())
        return false;  // present, but no address known yet (no fixed ip, no DHCP event)
    auto& built = built_for_[name];
    if (built == gate.generation)
        return true;
    if (s.running > 0)
        return false;  // let the deliveries to the old address end first
    auto sink = factory_(settings, gate.address);
    if (!sink)
    {
        log::error(log_tag, "sink={} cannot be set up for {} at {}", name, settings.device,
                   gate.address);
        built = gate.generation;  // keep the old one; a new address tries again
        return s.instance.sink != nullptr;
    }
    s.instance.sink = std::move(sink);
    built = gate.generation;
    log::info(log_tag, "sink={} now delivers to {} at {}", name, settings.device, gate.address);
    return true;
}

class scheduler::lease final : public stream_lease
{
public:
    lease(scheduler& owner, sink_state& s, std::string device) : owner_(owner), s_(s)
    {
        entry_.device = std::move(device);
    }
    ~lease() override
    {
        {
            std::lock_guard lock(owner_.mutex_);
            --s_.running;
            std::erase(owner_.streams_, &entry_);
            owner_.notified_ = true;
        }
        owner_.cv_.notify_all();
    }
    delivery::sink& sink() override { return *s_.instance.sink; }
    std::stop_token stop() const override { return entry_.stop.get_token(); }
    void report(delivery::outcome const& out) override
    {
        std::lock_guard lock(owner_.mutex_);
        if (out)
        {
            s_.stream_failures = 0;
            s_.stream_not_before = 0;
            return;
        }
        if (delivery::classify(out.error) == delivery::condition::cancelled ||
            entry_.stop.stop_requested())
            return;
        auto const& settings = s_.instance.settings;
        ++s_.stream_failures;
        s_.stream_not_before =
            now_seconds() + backoff(s_.stream_failures, settings.retry_min, settings.retry_max,
                                    jitter_factor());
    }
    stream_entry& entry() { return entry_; }

private:
    scheduler& owner_;
    sink_state& s_;
    stream_entry entry_;
};

void scheduler::cancel_streams()
{
    std::lock_guard lock(mutex_);
    streams_closed_ = true;
    for (auto* st : streams_)
        st->stop.request_stop();
}

std::unique_ptr<stream_lease> scheduler::lease_stream(std::string const& name)
{
    std::lock_guard lock(mutex_);
    if (stopping_ || streams_closed_)
        return nullptr;
    auto it = sinks_.find(name);
    if (it == sinks_.end())
        return nullptr;
    auto& s = it->second;
    if (!sink_ready(name, s) || !s.instance.sink || s.stream_not_before > now_seconds())
        return nullptr;
    auto l = std::make_unique<lease>(*this, s, s.instance.settings.device);
    ++s.running;
    streams_.push_back(&l->entry());
    return l;
}

void scheduler::device_joined(std::string const& device, std::string const& address)
{
    bool woke = false;
    {
        std::lock_guard lock(mutex_);
        for (auto& [name, s] : sinks_)
            if (s.instance.settings.device == device)
                s.stream_not_before = 0;  // back: a stream may try at once
        auto& gate = devices_[device];
        woke = !gate.present;
        gate.present = true;
        if (!address.empty() && address != gate.address)
        {
            gate.address = address;
            ++gate.generation;
            woke = true;
        }
    }
    if (!woke)
        return;
    int due = 0;
    for (auto const& [name, s] : sinks_)
        if (s.instance.settings.device == device)
            if (auto n = store_.make_due(name, now_seconds()); n)
                due += *n;
    log::info(log_tag, "device={} present{}{}: {} retry-waiting job(s) made due", device,
              address.empty() ? "" : " at ", address, due);
    wake(device);  // sinks with wake_on = the device's name; notifies the loop
}

void scheduler::device_left(std::string const& device)
{
    int cancelled = 0;
    {
        std::lock_guard lock(mutex_);
        auto& gate = devices_[device];
        if (!gate.present)
            return;
        gate.present = false;
        for (auto& j : jobs_)
            if (j->device == device && !j->done)
            {
                j->stop.request_stop();
                ++cancelled;
            }
        for (auto* st : streams_)
            if (st->device == device)
            {
                st->stop.request_stop();
                ++cancelled;
            }
        notified_ = true;
    }
    cv_.notify_all();
    log::info(log_tag, "device={} gone: its sinks wait; {} running delivery(ies) cancelled", device,
              cancelled);
}

} // namespace camrelay::pipeline
