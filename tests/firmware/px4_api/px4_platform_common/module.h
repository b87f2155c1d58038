/*
 * Declaration-only stand-in for PX4's px4_platform_common/module.h: ModuleBase and the usage printers.
 *
 * Without EDGEQ_PX4_MODULE_DESCRIPTOR: ModuleBase<T>, the class template of PX4 releases
 * (static _object and _task_id, T::main(argc, argv), exit_and_cleanup()).
 * With it: the ModuleBase of newer PX4 trees, a plain class whose modules keep a static
 * ModuleBase::Descriptor {task_spawn, custom_command, print_usage} (desc.object, desc.task_id,
 * ModuleBase::main(desc, argc, argv), exit_and_cleanup(desc)).
 */
#pragma once

#include <stdint.h>

#include <px4_platform_common/atomic.h>
#include <px4_platform_common/log.h>

#ifdef EDGEQ_PX4_MODULE_DESCRIPTOR

class ModuleBase {
  public:
    struct Descriptor {
        int (*task_spawn)(int argc, char *argv[]);
        int (*custom_command)(int argc, char *argv[]);
        int (*print_usage)(const char *reason);
        px4::atomic<ModuleBase *> object{nullptr};
        int task_id{-1};
    };

    ModuleBase();
    virtual ~ModuleBase();

    static int main(Descriptor &desc, int argc, char *argv[]);
    virtual int print_status();

  protected:
    virtual void request_stop();
    bool should_exit() const;
    static void exit_and_cleanup(Descriptor &desc);
    static constexpr const int task_id_is_work_queue = -2;
};

#else

template <class T> class ModuleBase {
  public:
    ModuleBase();
    virtual ~ModuleBase();

    static int main(int argc, char *argv[]);
    static bool is_running();
    virtual int print_status();

  protected:
    virtual void request_stop();
    bool should_exit() const;
    static void exit_and_cleanup();
    static T *get_instance();

    static px4::atomic<T *> _object;
    static int _task_id;
    static constexpr const int task_id_is_work_queue = -2;
};

#endif

__BEGIN_DECLS
__EXPORT void PRINT_MODULE_DESCRIPTION(const char *description);
__EXPORT void PRINT_MODULE_USAGE_NAME(const char *executable_name, const char *category);
__EXPORT void PRINT_MODULE_USAGE_COMMAND_DESCR(const char *name, const char *description);
__END_DECLS

#define PRINT_MODULE_USAGE_COMMAND(name) PRINT_MODULE_USAGE_COMMAND_DESCR(name, NULL);
#define PRINT_MODULE_USAGE_DEFAULT_COMMANDS()                                                                          \
    PRINT_MODULE_USAGE_COMMAND("stop");                                                                                \
    PRINT_MODULE_USAGE_COMMAND_DESCR("status", "print status info");
