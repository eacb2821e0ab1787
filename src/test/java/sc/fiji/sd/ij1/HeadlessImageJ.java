package sc.fiji.sd.ij1;

import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.net.MalformedURLException;
import java.net.URL;
import java.nio.charset.StandardCharsets;

import net.imagej.patcher.LegacyClassLoader;
import net.imagej.patcher.LegacyEnvironment;

/**
 * A real, patched, headless ImageJ 1.x for running macros in tests ({@code net.imagej:ij1-patcher}).
 * <p>
 * ImageJ 1 and our front-end classes ({@code sc.fiji.sd.ij1}, {@code sc.fiji.sd.imagej}, {@code sc.fiji.sd.fiji}) are
 * loaded by a class loader of their own, where the patcher can rewrite ImageJ for headless use; everything else (the
 * core, ImgLib2, ONNX Runtime) comes from the test's class loader. Sharing the core matters: ONNX Runtime's native library can be loaded
 * only once per JVM, and the model cache is then the same for every test. Nothing here may refer to {@code ij.*}
 * classes directly, or they would be loaded unpatched.
 */
final class HeadlessImageJ {

	private final LegacyEnvironment env;
	private final ClassLoader loader;
	private static HeadlessImageJ shared;

	/** One ImageJ per test JVM: starting and patching one takes seconds. */
	static synchronized HeadlessImageJ shared() {
		if (shared == null) shared = new HeadlessImageJ();
		return shared;
	}

	private HeadlessImageJ() {
		try {
			File classes = new File("target/classes");
			loader = new FrontEndFirstLoader(classes.toURI().toURL());
			env = new LegacyEnvironment(loader, true);
			env.disableIJ1PluginDirs();
			env.disableInitializer();
			env.suppressIJ1ScriptDiscovery();
			env.addPluginClasspath(classes); // ImageJ reads our plugins.config from there
			env.runMacro("", ""); // patch and start ImageJ now, before anything touches its classes
		}
		catch (ClassNotFoundException | MalformedURLException e) {
			throw new IllegalStateException(e);
		}
	}

	/**
	 * Runs macro code and returns what it printed (headless, ImageJ prints its log and macro errors); an error inside
	 * aborts the macro (as in ImageJ) rather than throw.
	 */
	synchronized String runMacro(String macro) {
		PrintStream out = System.out, err = System.err;
		ByteArrayOutputStream printed = new ByteArrayOutputStream();
		PrintStream capture = new PrintStream(printed, true, StandardCharsets.UTF_8);
		System.setOut(capture);
		System.setErr(capture);
		try {
			env.runMacro(macro, "");
		}
		finally {
			System.setOut(out);
			System.setErr(err);
		}
		String text = printed.toString(StandardCharsets.UTF_8);
		out.print(text);
		return text;
	}

	/** Macro helper: report(key, value) sets the system property sd.test.key; {@link #reported} reads it. */
	static final String REPORT = "function report(key, value) { call(\"java.lang.System.setProperty\", "
		+ "\"sd.test.\" + key, \"\" + value); }\n";

	/** Runs macro code that may call report(key, value); fails the test on a macro error. */
	String runReporting(String macro) {
		String printed = runMacro(REPORT + macro);
		org.junit.jupiter.api.Assertions.assertTrue(!printed.contains("Macro Error"), printed);
		return printed;
	}

	/** What the last macro reported under {@code key}. */
	static String reported(String key) {
		return System.getProperty("sd.test." + key);
	}

	/** The macro's error message; fails the test when the macro ran without one. */
	String errorOf(String macro) {
		String printed = runMacro(macro);
		int start = printed.indexOf("Macro Error: ");
		org.junit.jupiter.api.Assertions.assertTrue(start >= 0, "expected a macro error from: " + macro
			+ "\nbut it printed: " + printed);
		return printed.substring(start);
	}

	/** Calls a static no-argument method of a class as the patched ImageJ sees it. */
	Object call(String className, String method) {
		try {
			Method m = loader.loadClass(className).getMethod(method);
			return m.invoke(null);
		}
		catch (ReflectiveOperationException e) {
			throw new IllegalStateException(e);
		}
	}

	/**
	 * Loads ImageJ (patched) and our ImageJ front ends itself; the core and all libraries from the test class path.
	 */
	private static final class FrontEndFirstLoader extends LegacyClassLoader {

		private static final ClassLoader APP = HeadlessImageJ.class.getClassLoader();

		FrontEndFirstLoader(URL frontEndClasses) throws ClassNotFoundException {
			super();
			addURL(frontEndClasses);
		}

		private static boolean frontEnd(String name) {
			return name.startsWith("sc.fiji.sd.ij1.") || name.startsWith("sc.fiji.sd.imagej.")
				|| name.startsWith("sc.fiji.sd.fiji.");
		}

		@Override
		protected Class<?> loadClass(String name, boolean resolve) throws ClassNotFoundException {
			if (name.startsWith("sc.fiji.sd.") && !frontEnd(name)) return APP.loadClass(name);
			synchronized (getClassLoadingLock(name)) {
				try {
					return super.loadClass(name, resolve); // ImageJ 1 (patched), the patcher's hooks, our front ends
				}
				catch (ClassNotFoundException e) {
					return APP.loadClass(name); // libraries: ImgLib2, SciJava, ONNX Runtime, ...
				}
			}
		}
	}
}
