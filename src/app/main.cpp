// camrelay: gets photos off cameras and delivers them where their owner wants them.
#include "app/commands.hpp"
#include "sim/quirks.hpp"

#include <CLI/CLI.hpp>

#include <signal.h>

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv)
{
    using namespace camrelay::app;
    // Block the stop signals before anything else: a SIGTERM in the first milliseconds must
    // reach the daemon's signal wait, not kill it with the default action.
    sigset_t stop_signals;
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGINT);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
    CLI::App cli{"camrelay: gets photos off cameras without the vendor's app and delivers them to "
                 "folders, commands and more, remembering what each camera already gave.",
                 "camrelay"};
    cli.set_version_flag("--version", std::string("camrelay ") + CAMRELAY_VERSION);
    cli.require_subcommand(1);

    common_options common;
    auto add_common = [&](CLI::App* sub) {
        sub->add_option("-c,--config", common.config_path,
                        "Config file (TOML); without it the embedded defaults serve")
            ->check(CLI::ExistingFile);
        sub->add_option("--data-dir", common.data_dir,
                        "Folder for the ledger and spool (overrides [camrelay] data_dir)");
        sub->add_option("--log-level", common.log_level, "trace, debug, info, warn, error, off");
    };

    std::vector<std::string> run_cameras;
    auto* run = cli.add_subcommand("run", "Run the daemon: watch for cameras, fetch what is new, "
                                          "deliver it; SIGINT/SIGTERM stop it cleanly");
    run->footer("Exit codes: 0 stopped cleanly by SIGINT/SIGTERM; 1 stopped, but a camera thread "
                "stuck in a library call was left behind after shutdown_grace seconds (at least "
                "2); 2 bad command line or configuration.");
    add_common(run);
    run->add_option("--camera", run_cameras,
                    "Serve this camera port instead of the config's sources (repeatable): usb:, "
                    "usb:BUS,DEV or disk:/path");

    std::string import_camera, import_to;
    bool import_quiet = false;
    auto* imp = cli.add_subcommand("import", "One-shot: fetch what is new, deliver it, print one "
                                             "summary line; exit 0 when everything succeeded");
    imp->footer("Exit codes:\n"
                "  0  every object the cameras listed is known, or was fetched and delivered\n"
                "  1  a camera could not be read, a delivery failed, or the import was "
                "interrupted\n"
                "  2  bad command line or configuration\n"
                "  3  objects were left on a camera: unreadable, not fetched or deferred (also "
                "when 1 applies too);\n"
                "     they are listed on stderr and in `camrelay status`, and tried again next "
                "time\n"
                "Sizes are in SI units: 1 MB = 10^6 bytes.");
    add_common(imp);
    imp->add_option("--camera", import_camera,
                    "Camera: usb:, usb:BUS,DEV, disk:/path, ptpip://HOST[:PORT] or fuji://HOST[:PORT]");
    imp->add_option("--to", import_to, "Deliver into this folder instead of the routes");
    imp->add_flag("-q,--quiet", import_quiet, "No progress bar");

    bool status_json = false;
    auto* status = cli.add_subcommand("status", "Cameras, delivery queue, recent deliveries "
                                                "and failures, from the ledger");
    add_common(status);
    status->add_flag("--json", status_json, "Machine-readable output");

    auto* cameras = cli.add_subcommand("cameras", "List the cameras that can be seen right now");

    auto* config = cli.add_subcommand("config", "Check or show configuration");
    config->require_subcommand(1);
    std::string check_path;
    auto* check = config->add_subcommand("check", "List every problem of a config file with its "
                                                  "line; exit 2 when there is one");
    check->add_option("FILE", check_path, "Config file")->required();
    auto* defaults = config->add_subcommand("defaults", "Print the embedded default config");

    std::string describe_type;
    auto* sinks = cli.add_subcommand("sinks", "List sink types and their options");
    sinks->add_option("TYPE", describe_type, "Only this type");
    auto* sources = cli.add_subcommand("sources", "List source types and their options");
    sources->add_option("TYPE", describe_type, "Only this type");

    auto* retry = cli.add_subcommand("retry", "Put failed and cancelled delivery jobs back in the "
                                              "queue, due now");
    add_common(retry);

    std::string login_url, login_secret_file, login_code, login_ca_file;
    auto* login = cli.add_subcommand("login", "Log in to an online service and save its token "
                                              "for a sink");
    login->require_subcommand(1);
    auto* login_mastodon = login->add_subcommand(
        "mastodon", "Register camrelay at a Mastodon instance, authorise it in a browser, and "
                    "write the secret file the mastodon sink reads (mode 0600)");
    login_mastodon->add_option("URL", login_url, "Instance, e.g. https://mastodon.social")
        ->required();
    login_mastodon->add_option("--secret-file", login_secret_file,
                               "Where to write the token (default: "
                               "~/.config/camrelay/mastodon-HOST.json, /etc/camrelay/ for root)");
    login_mastodon->add_option("--code", login_code,
                               "The authorisation code, instead of reading it from stdin");
    login_mastodon->add_option("--ca-file", login_ca_file,
                               "Extra CA certificates (PEM) to verify the instance with");

    std::string trust_url, trust_known_hosts;
    bool trust_yes = false;
    auto* trust = cli.add_subcommand("trust", "Show an SSH server's host key and add it to a "
                                              "known_hosts file for the sftp and scp sinks");
    trust->add_option("URL", trust_url, "sftp://HOST[:PORT] or scp://HOST[:PORT]")->required();
    trust->add_option("--known-hosts", trust_known_hosts,
                      "known_hosts file to add the key to (created 0600; default "
                      "~/.ssh/known_hosts)");
    trust->add_flag("-y,--yes", trust_yes, "Do not ask for confirmation");

    std::vector<std::string> hostapd_args, dhcp_args;
    std::string event_socket;
    auto* hostapd_event = cli.add_subcommand(
        "hostapd-event", "Tell the running daemon a Wi-Fi station joined or left (the "
                         "hostapd_cli -a action-script convention: IFACE EVENT MAC)");
    add_common(hostapd_event);
    hostapd_event->add_option("--socket", event_socket,
                              "The daemon's control socket (default: $CAMRELAY_SOCKET, else the "
                              "config's control_socket, else DATA_DIR/control.sock)");
    hostapd_event->add_option("ARGS", hostapd_args, "IFACE EVENT MAC [...]")->required();
    auto* dhcp_event = cli.add_subcommand(
        "dhcp-event", "Tell the running daemon about a DHCP lease (the dnsmasq --dhcp-script "
                      "convention: add|old|del MAC IP [HOSTNAME]; init and tftp are ignored)");
    add_common(dhcp_event);
    dhcp_event->add_option("--socket", event_socket, "The daemon's control socket");
    dhcp_event->add_option("ARGS", dhcp_args, "ACTION MAC IP [HOSTNAME]")->required();

    std::string samsung_ip;
    auto* samsung = cli.add_subcommand("samsung", "Helpers for Samsung cameras (SNS e-mail and "
                                                  "social uploads)");
    samsung->require_subcommand(1);
    auto* samsung_hosts = samsung->add_subcommand(
        "hosts", "Print the /etc/hosts and dnsmasq lines that send each Samsung camera family to "
                 "camrelay");
    samsung_hosts->add_option("IP", samsung_ip,
                              "Address the cameras reach camrelay at (default: this machine's "
                              "first non-loopback IPv4 address, marked as a guess)");

    sim_options sim_opts;
    auto* sim = cli.add_subcommand("sim", "Simulate a Wi-Fi camera serving a folder's files over "
                                          "PTP/IP or Fuji's protocol, for testing clients; runs "
                                          "until SIGINT/SIGTERM");
    sim->add_option("PROTOCOL", sim_opts.protocol, "ptpip or fuji")
        ->required()
        ->check(CLI::IsMember({"ptpip", "fuji"}));
    sim->add_option("--dir", sim_opts.dirs,
                    "Card root (DCIM/1xxXXXXX folders) or a flat folder of photos; a second "
                    "--dir is the card in slot 2")
        ->required()
        ->check(CLI::ExistingDirectory);
    std::vector<std::string> quirk_names;
    for (auto const& q : camrelay::sim::quirk_table())
        quirk_names.emplace_back(q.name);
    sim->add_option("--quirk", sim_opts.quirks, "Behave like a real or hostile camera (repeatable; "
                                                "the list is below)")
        ->check(CLI::IsMember(quirk_names));
    sim->add_option("--select", sim_opts.select,
                    "camera-selected: how many photos the owner selected (default 4)");
    sim->footer(camrelay::sim::quirk_help());
    sim->add_option("--port", sim_opts.port,
                    "Port (default 15740 for ptpip, 55740 for fuji; fuji events on PORT+1)");
    sim->add_option("--bind", sim_opts.bind, "Address to listen on (default 127.0.0.1)");
    sim->add_option("--model", sim_opts.model, "Camera name the client sees");
    sim->add_option("--drop-after", sim_opts.drop_after,
                    "Close a connection after sending this many bytes of file content");
    sim->add_flag("--refuse", sim_opts.refuse, "Answer every init with Init Fail");
    sim->add_option("--log-level", sim_opts.log_level, "trace, debug, info, warn, error, off");

    try
    {
        cli.parse(argc, argv);
    }
    catch (CLI::ParseError const& e)
    {
        return cli.exit(e) == 0 ? 0 : 2;
    }

    // Only the daemon and import drain on a stop signal; every other command just ends.
    if (!*run && !*imp)
        pthread_sigmask(SIG_UNBLOCK, &stop_signals, nullptr);

    if (*run)
        return cmd_run(common, run_cameras);
    if (*imp)
        return cmd_import(common, import_camera, import_to, import_quiet);
    if (*status)
        return cmd_status(common, status_json);
    if (*cameras)
        return cmd_cameras();
    if (*check)
        return cmd_config_check(check_path);
    if (*defaults)
        return cmd_config_defaults();
    if (*sinks)
        return cmd_describe("sink", describe_type);
    if (*sources)
        return cmd_describe("source", describe_type);
    if (*retry)
        return cmd_retry(common);
    if (*login_mastodon)
        return cmd_login_mastodon(login_url, login_secret_file, login_code, login_ca_file);
    if (*trust)
        return cmd_trust(trust_url, trust_known_hosts, trust_yes);
    if (*sim)
        return cmd_sim(sim_opts);
    if (*samsung_hosts)
        return cmd_samsung_hosts(samsung_ip);
    if (*hostapd_event)
        return cmd_hostapd_event(common, event_socket, hostapd_args);
    if (*dhcp_event)
        return cmd_dhcp_event(common, event_socket, dhcp_args);
    return 2;
}
