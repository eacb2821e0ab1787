package sc.fiji.sd.ij1;

import java.awt.EventQueue;
import java.awt.Rectangle;
import java.awt.Robot;
import java.awt.TextField;
import java.awt.Toolkit;
import java.awt.event.ActionEvent;
import java.io.File;
import java.util.Vector;

import javax.imageio.ImageIO;

import ij.IJ;
import ij.ImageJ;
import ij.ImagePlus;
import ij.WindowManager;
import ij.gui.GenericDialog;
import sc.fiji.sd.imagej.Settings;

/**
 * Takes the README screenshots in a real ImageJ 1.x under Xvfb: the Text to Image dialog filled in as a user would,
 * then the result window with its Info. Run by {@code src/test/scripts/screenshots.sh}; not a test.
 */
public final class ScreenshotsUnderXvfb {

	public static void main(String[] args) throws Exception {
		String model = args[0];
		File out = new File(args[1]);
		new ImageJ(); // loads IJ_Prefs.txt: choose the model after that
		new Settings(model, "cpu", 0).save();
		IJ.wait(1500);
		Thread user = new Thread(() -> new TextToImagePlugin().run(""), "Text to Image...");
		user.start();
		GenericDialog gd = RecordingUnderXvfb.waitForDialog();
		((TextField) gd.getStringFields().get(0)).setText("a red circle on a blue background");
		((TextField) gd.getStringFields().get(1)).setText("blurry");
		@SuppressWarnings("unchecked")
		Vector<TextField> numbers = (Vector<TextField>) gd.getNumericFields();
		numbers.get(2).setText("42"); // seed
		numbers.get(5).setText("64"); // width and height (after subseed, variation): the shipped model's size
		numbers.get(6).setText("64");
		IJ.wait(800);
		capture(new File(out, "dialog.png"));
		EventQueue.invokeAndWait(() -> gd.actionPerformed(new ActionEvent(gd.getButtons()[0],
			ActionEvent.ACTION_PERFORMED, "OK")));
		user.join(300_000);
		ImagePlus result = WindowManager.getCurrentImage();
		IJ.run(result, "Show Info...", "");
		IJ.wait(800);
		result.getWindow().toFront();
		IJ.run(result, "Set... ", "zoom=400 x=32 y=32");
		result.getWindow().setLocation(560, 140);
		IJ.wait(1500);
		capture(new File(out, "result.png"));
		System.exit(0);
	}

	private static void capture(File file) throws Exception {
		Rectangle screen = new Rectangle(Toolkit.getDefaultToolkit().getScreenSize());
		ImageIO.write(new Robot().createScreenCapture(screen), "png", file);
		System.out.println("wrote " + file);
	}
}
