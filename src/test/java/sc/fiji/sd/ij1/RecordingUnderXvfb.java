package sc.fiji.sd.ij1;

import java.awt.EventQueue;
import java.awt.TextField;
import java.awt.Window;
import java.awt.event.ActionEvent;
import java.util.Arrays;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import ij.IJ;
import ij.ImagePlus;
import ij.Macro;
import ij.WindowManager;
import ij.gui.GenericDialog;
import ij.plugin.frame.Recorder;
import sc.fiji.sd.imagej.Settings;

/**
 * Records an interactive Text to Image run and replays the recorded line (run by {@link PlainImageJXvfbTest} in a
 * JVM of its own under Xvfb: real dialogs need a display).
 * <p>
 * The "user" leaves the seed at −1, types a prompt and small sizes, and clicks OK; the macro recorder must record
 * the seed actually drawn, so that replaying the line gives the same pixels. Prints RECORDED, TITLE and IDENTICAL lines.
 */
public final class RecordingUnderXvfb {

	public static void main(String[] args) throws Exception {
		new Settings(args[0], "cpu", 0).save();
		Recorder recorder = new Recorder(false);
		Thread user = startRecordedTextToImage();
		GenericDialog gd = waitForDialog();
		((TextField) gd.getStringFields().get(0)).setText("a red circle");
		@SuppressWarnings("unchecked")
		var numbers = (java.util.Vector<TextField>) gd.getNumericFields();
		numbers.get(0).setText("3"); // steps
		numbers.get(5).setText("64"); // width (after seed, subseed, variation)
		numbers.get(6).setText("64"); // height
		EventQueue.invokeAndWait(() -> gd.actionPerformed(new ActionEvent(gd.getButtons()[0],
			ActionEvent.ACTION_PERFORMED, "OK")));
		user.join(120_000);
		ImagePlus first = WindowManager.getCurrentImage();
		String recorded = recorder.getText();
		System.out.println("RECORDED " + recorded.strip());
		System.out.println("TITLE " + (first == null ? null : first.getTitle()));

		String options = recordedOptions(recorded);
		if (options == null) {
			System.out.println("IDENTICAL no recorded line");
			System.exit(0);
		}
		ImagePlus second = replay(options, () -> {});
		boolean identical = second != null && second != first && Arrays.equals((int[]) first.getProcessor().getPixels(),
			(int[]) second.getProcessor().getPixels());
		System.out.println("IDENTICAL " + identical + " (" + (second == null ? null : second.getTitle()) + ")");
		IJ.log("done");
		System.exit(0);
	}

	/** Starts Text to Image as ImageJ's Executer does around a menu command while the recorder is open. */
	static Thread startRecordedTextToImage() {
		Thread user = new Thread(() -> {
			Recorder.setCommand("Text to Image...");
			new TextToImagePlugin().run("");
			Recorder.saveCommand();
		}, "Text to Image...");
		user.start();
		return user;
	}

	/** The options of the recorded Text to Image line, or null when none was recorded. */
	static String recordedOptions(String recorded) {
		Matcher m = Pattern.compile("run\\(\"Text to Image\\.\\.\\.\", \"(.*)\"\\);").matcher(recorded);
		return m.find() ? m.group(1) : null;
	}

	/** Runs Text to Image as a macro line with {@code options}, after {@code before}; returns the current image then. */
	static ImagePlus replay(String options, Runnable before) throws InterruptedException {
		Thread replay = new Thread(() -> {
			before.run();
			Macro.setOptions(options);
			new TextToImagePlugin().run("");
			Macro.setOptions(null);
		}, "Run$_replay");
		replay.start();
		replay.join(120_000);
		return WindowManager.getCurrentImage();
	}

	/** The Text to Image dialog once it shows (also used by {@link ScreenshotsUnderXvfb}). */
	static GenericDialog waitForDialog() throws InterruptedException {
		for (int i = 0; i < 600; i++) {
			for (Window w : Window.getWindows())
				if (w instanceof GenericDialog gd && gd.isVisible() && gd.getStringFields() != null) return gd;
			Thread.sleep(100);
		}
		throw new IllegalStateException("The Text to Image dialog did not appear");
	}
}
